"""An enterprise's employees from a file (CSV in UTF-8 or GBK, or Excel .xlsx): columns 姓名 /
name, 手机 / phone and, where known, 身份证号 / id_number (the client import's readers and
header names: clientmgmt.imports).

Every row is matched to an existing client, never duplicated: by ID card number (unique, so
certain), else by phone *and* name (a phone is often shared in a family, so a phone alone is not
taken to be the person). A row whose phone belongs to someone of another name, or whose name and
birth date match a record, is left for a person to add by hand. Rows that match nobody may be
registered as new clients, through clientmgmt.services.client_create after one more duplicate
check (clientmgmt.selectors.client_duplicates), since the preview was shown.

Nothing is written until the preview is confirmed. The preview's rows travel in the confirm
form, encrypted (they hold ID numbers) and signed for this enterprise and this user, valid for
an hour; they are matched again at the confirmation, so what changed in between is respected.
The confirm form carries a one-time key (zhongdu.forms.FormKeyField): a confirmation posted twice
applies the file once (the record of what it did, vip.models.EnterpriseImport, keeps the key).
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clientmgmt import validation
from clientmgmt.imports import map_headers, read_records
from clientmgmt.models import Client
from clientmgmt.selectors import client_duplicates
from clientmgmt.services import client_create, client_phone_lock
from zhongdu import audit, crypto, phones
from zhongdu.controlchars import cells_checked
from zhongdu.masking import mask_id_number
from zhongdu.services import create_once

from . import services
from .models import Enterprise, EnterpriseImport

MAX_ROWS = 2000
PREVIEW_MAX_AGE = 3600  # seconds between the preview and its confirmation

ADD, MEMBER, NEW, CONFLICT, SIMILAR, INVALID, REPEATED = (
    "add",
    "member",
    "new",
    "conflict",
    "similar",
    "invalid",
    "repeated",
)
OUTCOMES = {
    ADD: (gettext_lazy("Found: will be added"), "success"),
    MEMBER: (gettext_lazy("Already an employee"), "secondary"),
    NEW: (gettext_lazy("No record: can be registered"), "info"),
    CONFLICT: (gettext_lazy("Unclear: add by hand"), "warning"),
    SIMILAR: (gettext_lazy("Perhaps a known client: add by hand"), "warning"),
    INVALID: (gettext_lazy("Not imported"), "danger"),
    REPEATED: (gettext_lazy("Repeats an earlier row"), "secondary"),
}


class PreviewExpired(Exception):
    """The confirmation's rows cannot be read back; the message is for the user."""


@dataclass
class ImportRow:
    number: int
    name: str = ""
    phone: str = ""  # E.164
    id_number: str = ""
    errors: list[str] = field(default_factory=list)
    outcome: str = ""
    client: Client | None = None
    detail: str = ""

    @property
    def date_of_birth(self):
        return validation.id_number_birth_date(self.id_number) if self.id_number else None

    @property
    def phone_masked(self) -> str:
        return phones.mask(self.phone)

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def label(self) -> str:
        return str(OUTCOMES[self.outcome][0]) if self.outcome else ""

    @property
    def css(self) -> str:
        return OUTCOMES[self.outcome][1] if self.outcome else ""


def read_rows(file_name: str, raw: bytes) -> list[ImportRow]:
    """The file's rows, each checked (name, phone, ID card number); raises ImportFileError when
    the file as a whole cannot be used."""
    records = read_records(
        file_name,
        raw,
        map_headers,
        max_rows=MAX_ROWS,
        too_many=_("At most %(count)s employees per file; split the file."),
    )
    return [_checked(number, values) for number, values in records]


def _checked(number: int, values: dict) -> ImportRow:
    values, errors = cells_checked(values)
    row = ImportRow(number, errors=errors)
    for name, clean in (
        ("name", validation.clean_name),
        ("phone", phones.normalise),
        ("id_number", validation.clean_id_number),
    ):
        try:
            setattr(row, name, clean(values.get(name, "")))
        except ValidationError as exc:
            row.errors.extend(exc.messages)
    if not row.errors and not row.phone and not row.id_number:
        row.errors.append(_("Give at least a phone or an ID card number."))
    return row


def match_rows(rows: list[ImportRow], *, enterprise) -> list[ImportRow]:
    """Decide each row's outcome against the clients on file (four queries for the file)."""
    live = Client.objects.exclude(status=Client.Status.MERGED).only(
        "id", "name", "phone", "id_number_hash", "date_of_birth", "is_vip", "status"
    )
    phones = {row.phone for row in rows if row.phone and not row.errors}
    hashes = {crypto.keyed_hash(row.id_number) for row in rows if row.id_number and not row.errors}
    births = {(row.name, row.date_of_birth) for row in rows if row.id_number and not row.errors}
    by_phone, by_birth = defaultdict(list), defaultdict(list)
    for client in live.filter(phone__in=phones):
        by_phone[client.phone].append(client)
    by_hash = {client.id_number_hash: client for client in live.filter(id_number_hash__in=hashes)}
    for client in live.filter(name__in={name for name, _born in births}):
        by_birth[(client.name, client.date_of_birth)].append(client)
    members = set(enterprise.members.values_list("client_id", flat=True))
    seen: dict[str, int] = {}
    for row in rows:
        row.outcome, row.client, row.detail = "", None, ""
        if row.errors:
            row.outcome, row.detail = INVALID, " ".join(row.errors)
            continue
        earlier = next((seen[key] for key in (row.phone, row.id_number) if key in seen), None)
        if earlier is not None:
            row.outcome = REPEATED
            row.detail = _("Same phone or ID card number as row %(row)s.") % {"row": earlier}
            continue
        seen.update({key: row.number for key in (row.phone, row.id_number) if key})
        client, problem = _match(row, by_phone, by_hash)
        if problem:
            row.outcome, row.detail = CONFLICT, problem
        elif client is not None:
            row.client = client
            row.outcome = MEMBER if client.pk in members else ADD
        elif similar := by_birth.get((row.name, row.date_of_birth)):
            row.outcome, row.client = SIMILAR, similar[0]
            row.detail = _("A client of the same name and date of birth is on file.")
        else:
            row.outcome = NEW
    return rows


def _match(row: ImportRow, by_phone, by_hash) -> tuple[Client | None, str]:
    """(the client this row is, or None; the reason it is unclear, or "")."""
    if row.id_number and (client := by_hash.get(crypto.keyed_hash(row.id_number))):
        return client, ""
    on_phone = by_phone.get(row.phone, []) if row.phone else []
    same_name = [client for client in on_phone if client.name == row.name]
    if len(same_name) > 1:
        return None, _("Several records have this phone and name.")
    if same_name:
        client = same_name[0]
        if row.id_number and client.id_number_hash:
            # The card did not match, so the record holds another one: not the same person.
            return None, _("The record with this phone and name holds another ID card number.")
        return client, ""
    if on_phone:
        return None, _("This phone is on the record of someone of another name.")
    return None, ""


# --- The preview travels in the confirm form --------------------------------------------


def _salt(enterprise, user) -> str:
    return f"vip.enterprise_import:{enterprise.pk}:{user.pk}"


def preview_dump(rows: list[ImportRow], *, file_name: str, enterprise, user) -> str:
    data = {
        "file": file_name[:200],
        "rows": [[r.number, r.name, r.phone, r.id_number] for r in rows if not r.errors],
    }
    return crypto.encrypt(signing.dumps(data, salt=_salt(enterprise, user), compress=True))


def preview_load(payload: str, *, enterprise, user) -> tuple[str, list[ImportRow]]:
    try:
        data = signing.loads(
            crypto.decrypt(payload), salt=_salt(enterprise, user), max_age=PREVIEW_MAX_AGE
        )
    except (ValueError, signing.BadSignature):
        raise PreviewExpired(
            _("This preview has expired or was not made here; upload the file again.")
        ) from None
    rows = [
        ImportRow(number, name, phone, id_number) for number, name, phone, id_number in data["rows"]
    ]
    return data["file"], rows


# --- The confirmation -------------------------------------------------------------------


def enterprise_import_apply(
    *,
    enterprise,
    rows: list[ImportRow],
    create_new: bool,
    file_name: str,
    by,
    request=None,
    request_key: str = "",
) -> EnterpriseImport:
    """Add the matched clients and (when asked) register the rows that match nobody; returns the
    import's record with its counts (added, created, skipped). The confirm form's one-time key
    (`request_key`): the same confirmation posted twice (a double click, a resubmitted tab)
    finds the first one's record and applies nothing."""
    return create_once(
        EnterpriseImport,
        request_key,
        lambda: _import_apply(
            enterprise=enterprise,
            rows=rows,
            create_new=create_new,
            file_name=file_name,
            by=by,
            request=request,
            request_key=request_key,
        ),
    )[0]


def _import_apply(
    *, enterprise, rows, create_new, file_name, by, request, request_key
) -> EnterpriseImport:
    """Each row in its own savepoint: a row refused (added meanwhile, registered meanwhile) stops
    nothing. One confirmation per enterprise at a time: a second one (another manager confirming
    the same file from another preview) waits on the enterprise's row, then matches the rows again
    and finds them done, instead of registering the same people twice. The same confirmation
    racing itself waits there too, and its record is then refused by the key's unique index."""
    counts = {"added": 0, "created": 0, "skipped": 0}
    with transaction.atomic():
        Enterprise.objects.select_for_update().filter(pk=enterprise.pk).first()
        for row in match_rows(rows, enterprise=enterprise):
            try:
                with transaction.atomic():
                    outcome = _apply_row(
                        row, enterprise=enterprise, create_new=create_new, by=by, request=request
                    )
            except (ValidationError, IntegrityError):
                outcome = "skipped"
            counts[outcome] += 1
            if outcome == "created":
                counts["added"] += 1
        done = EnterpriseImport.objects.create(
            enterprise=enterprise,
            file_name=file_name[:200],
            imported_by=by,
            request_key=request_key,
            **counts,
        )
        audit.record(
            audit.Action.UPDATE,
            actor=by,
            obj=enterprise,
            fields=["members"],
            object_repr=audit.note(
                "vip.member_import",
                enterprise=enterprise.name[:50],
                file=file_name[:50],
                **counts,
            ),
            request=request,
        )
    return done


def _apply_row(row: ImportRow, *, enterprise, create_new: bool, by, request) -> str:
    """What became of one row: "added" (an existing client), "created" (a new record, added
    too) or "skipped"."""
    if row.outcome == ADD:
        services.enterprise_add_member(enterprise=enterprise, client=row.client, by=by)
        return "added"
    registered = (
        row.outcome == NEW
        and create_new
        and _register_and_add(row, enterprise=enterprise, by=by, request=request)
    )
    return "created" if registered else "skipped"


def _register_and_add(row: ImportRow, *, enterprise, by, request) -> bool:
    """A new client record for a row that matched nobody, and the employee; False when a
    possible duplicate appeared since the preview (left for a person to look at)."""
    with transaction.atomic():
        # Under the phone's lock, as every registration (clientmgmt.services.client_register):
        # the desk registering the same number waits, or is waited for, and is found.
        client_phone_lock(row.phone)
        if client_duplicates(
            phone=row.phone,
            id_number=row.id_number,
            name=row.name,
            date_of_birth=row.date_of_birth,
        ):
            return False
        client = client_create(
            data={"name": row.name, "phone": row.phone, "id_number": row.id_number},
            by=by,
            request=request,
        )
        services.enterprise_add_member(enterprise=enterprise, client=client, by=by)
    return True


def describe_member_import(*, enterprise: str, file: str, added: int, created: int, skipped: int):
    """What the audit trail says of an employee list's import (zhongdu.audit.note)."""
    return _(
        "%(enterprise)s, %(file)s: %(added)s added (new client records: %(created)s), "
        "%(skipped)s skipped"
    ) % {
        "enterprise": enterprise,
        "file": file,
        "added": added,
        "created": created,
        "skipped": skipped,
    }
