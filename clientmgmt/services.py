"""Writes to client records. Each service runs in one transaction, writes the client's event
log and the audit trail, and returns the model. Nothing here sends a message."""

import datetime
import hashlib
import json
import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from zhongdu import audit, crypto, phones
from zhongdu.masking import mask_id_number
from zhongdu.models import HospitalProfile
from zhongdu.services import create_once

from . import consent, imports, validation
from .models import (
    Client,
    ClientConsent,
    ClientEvent,
    ClientImport,
    ClientImportRow,
    ClientMerge,
    ConsentEvent,
)
from .registry import check_merge, consent_withdrawn
from .search import build_search_terms
from .selectors import consent_states

logger = logging.getLogger(__name__)

# Fields a form may set directly (the rest are derived or set by a service).
PLAIN_FIELDS = [
    "name",
    "sex",
    "date_of_birth",
    "education",
    "family_status",
    "health_status",
    "exam_status",
    "phone",
    "other_contact",
    "privacy_contact_name",
    "privacy_contact_relation",
    "privacy_contact_phone",
    "is_patient",
    "is_member",
    "is_exam_client",
    "source_channel",
    "notes",
]
# Field names written to logs instead of values: numbers never reach the audit trail.
ID_FIELD = "id_number"


def _apply(client: Client, data: dict, by) -> list[str]:
    """Set the client's fields from cleaned data; return the names of fields that changed."""
    changed = []
    data = dict(data)
    for name in ("phone", "privacy_contact_phone"):
        if name in data:
            data[name] = phones.normalise(data[name] or "")
    if data.get(ID_FIELD):
        data[ID_FIELD] = validation.clean_id_number(data[ID_FIELD])
    for name in PLAIN_FIELDS:
        if name in data and getattr(client, name) != data[name]:
            setattr(client, name, data[name])
            changed.append(name)
    client.name = validation.clean_name(client.name)
    client.name_pinyin, client.search_terms = build_search_terms(client.name)
    client.phone_last4 = client.phone[-4:] if client.phone else ""
    id_number = data.get(ID_FIELD) or ""
    if id_number:
        new_hash = crypto.keyed_hash(id_number)
        if new_hash != client.id_number_hash:
            client.id_number_hash = new_hash
            client.id_number_encrypted = crypto.encrypt(id_number)
            client.id_number_masked = mask_id_number(id_number)
            changed.append(ID_FIELD)
        # The card states birth date and sex: fill them when staff left them blank.
        if client.date_of_birth is None:
            client.date_of_birth = validation.id_number_birth_date(id_number)
            changed.append("date_of_birth")
        if client.sex == Client.Sex.UNKNOWN:
            client.sex = validation.id_number_sex(id_number)
            changed.append("sex")
    now = timezone.now()
    if "phone" in changed:
        client.phone_flagged_at = None  # a corrected number is no longer the wrong one
    client.updated_at, client.updated_by = now, by
    return sorted(set(changed))


def _save(client: Client) -> None:
    try:
        with transaction.atomic():
            client.save()
    except IntegrityError as exc:
        # Two clerks registering the same card at once: the unique index decides.
        if "id_number" in str(exc):
            raise ValidationError(
                {ID_FIELD: _("A client with this ID card number already exists.")}
            ) from exc
        raise


def client_phone_lock(phone: str) -> None:
    """Hold the lock on this phone number until the transaction ends: registrations of one
    number take turns, so the second sees the record the first wrote. A transaction-scoped
    advisory lock on a 64-bit hash of the normalised number (a rare hash collision only makes two
    numbers wait for each other). SQLite has one writer at a time anyway: nothing to do."""
    phone = phones.normalise(phone or "")
    if not phone or connection.vendor != "postgresql":
        return
    digest = hashlib.blake2b(f"client-phone:{phone}".encode(), digest_size=8).digest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, "big", signed=True)]
        )


def client_same_person(*, phone: str, name: str, date_of_birth=None) -> Client | None:
    """The live record this registration describes: the same phone and the same name or date of
    birth. A phone alone is not the person (a family often shares one mobile)."""
    if not phone:
        return None
    same = Q(name=validation.clean_name(name or ""))
    if date_of_birth is not None:
        same |= Q(date_of_birth=date_of_birth)
    rows = Client.objects.filter(same, phone=phones.normalise(phone))
    return rows.exclude(status=Client.Status.MERGED).order_by("pk").first()


@transaction.atomic
def client_register(
    *,
    data: dict,
    by,
    request=None,
    request_key: str = "",
    distinct: bool = False,
    event_kind=ClientEvent.Kind.CREATED,
) -> tuple[Client, bool]:
    """(the client, whether the record is new): every way a client is registered (the client
    form, the walk-in desk, the event door, imports) comes here, so a double click, two tabs or
    two clerks make one record. Under the phone's lock (client_phone_lock): the record the same
    form (`request_key`, its one-time key) wrote, else the same person already on file
    (client_same_person, unless staff saw the records and confirmed a `distinct` person), else a
    new record. A new record's consents as the form recorded them (data["consents"]: {purpose:
    ticked}, at data["consent_channel"], data["consent_method"]) are recorded with it: a tick is
    a grant, an unticked purpose that is on unless refused (service SMS) a refusal; the record
    of a person already on file keeps theirs (its page changes them)."""
    client_phone_lock(data.get("phone", ""))
    wrote = []

    def register() -> Client:
        if not distinct and (
            same := client_same_person(
                phone=data.get("phone", ""),
                name=data.get("name", ""),
                date_of_birth=data.get("date_of_birth"),
            )
        ):
            return same
        client = Client(created_by=by, request_key=request_key)
        fields = _apply(client, data, by)
        _save(client)
        # The consents given with the registration are part of it: one entry on the client's
        # log and the trail, which name them among the fields.
        fields += _record_form_consents(client, data, by=by)
        ClientEvent.objects.create(client=client, kind=event_kind, actor=by, fields=fields)
        audit.record(audit.Action.CREATE, actor=by, obj=client, fields=fields, request=request)
        wrote.append(client)
        return client

    # The form's key first (a double click), then the same person, then a new record; a form
    # without a phone (no lock) racing itself is settled by the key's unique index.
    client, _ = create_once(Client, request_key, register)
    return client, bool(wrote)


def client_create(
    *, data: dict, by, request=None, event_kind=ClientEvent.Kind.CREATED, distinct=False
) -> Client:
    """A client record, or the same person's record already on file (client_register)."""
    return client_register(
        data=data, by=by, request=request, event_kind=event_kind, distinct=distinct
    )[0]


@transaction.atomic
def client_update(*, client: Client, data: dict, by, request=None) -> Client:
    fields = _apply(client, data, by)
    if not fields:
        return client
    _save(client)
    ClientEvent.objects.create(
        client=client, kind=ClientEvent.Kind.UPDATED, actor=by, fields=fields
    )
    audit.record(audit.Action.UPDATE, actor=by, obj=client, fields=fields, request=request)
    return client


def _set_status(client: Client, status: str, kind: str, by, request, detail=""):
    allowed = {
        Client.Status.ARCHIVED: {Client.Status.ACTIVE},
        Client.Status.ACTIVE: {Client.Status.ARCHIVED, Client.Status.MERGED},
        Client.Status.MERGED: {Client.Status.ACTIVE},
    }
    if client.status not in allowed[status]:
        raise ValidationError(
            _("This record is %(status)s and cannot be changed that way.")
            % {"status": client.get_status_display()}
        )
    client.status = status
    client.updated_at, client.updated_by = timezone.now(), by
    client.save(update_fields=["status", "merged_into", "updated_at", "updated_by"])
    ClientEvent.objects.create(client=client, kind=kind, actor=by, fields=["status"], detail=detail)
    audit.record(audit.Action.UPDATE, actor=by, obj=client, fields=["status"], request=request)


def _record_form_consents(client: Client, data: dict, *, by) -> list[str]:
    """Record a new record's consents as its form gave them; the purposes recorded."""
    given = data.get("consents") or {}
    channel = data.get("consent_channel") or consent.Channel.NEW_CLIENT_FORM
    recorded = []
    for code, purpose in consent.PURPOSES.items():
        if code in given and (given[code] or purpose.default):
            consent_record(
                client=client,
                purpose=code,
                granted=bool(given[code]),
                channel=channel,
                method=data.get("consent_method", "") if given[code] else "",
                by=by,
                log=False,
            )
            recorded.append(code)
    return recorded


# --- Consent (clientmgmt.consent) ------------------------------------------------


def consent_record(
    *,
    client: Client,
    purpose: str,
    granted: bool,
    channel: str,
    by=None,
    method: str = "",
    notice_version: str | None = None,
    at=None,
    detail: str = "",
    request=None,
    log: bool = True,
    username: str = "",
) -> ConsentEvent | None:
    """Record that `client` granted or withdrew consent to `purpose`, with the privacy notice's
    version in force (the hospital profile's, unless the caller knows the one the person was
    shown), and return the event; None when it would say nothing new (the same answer to the
    same notice, a STOP sent twice).

    One transaction, holding the client row's lock so that two desks recording at once take
    turns: the event, the state in force (unless a later answer is already on record: a public
    request attached to the client after they answered otherwise at the desk), the client's event
    log and the audit trail. A withdrawal withdraws the purposes that need this one
    (consent.Purpose.needs) and stops the client's pending messages of each at once
    (registry.consent_withdrawn); a grant is refused while a purpose it needs is withdrawn.
    `log=False`: the caller writes the log and the trail (a registration names its consents
    among the fields it recorded). `username`: who the trail names when no staff user acts (the
    person themselves on the patient portal)."""
    entry = consent.get_purpose(purpose)
    if channel not in consent.Channel.values:
        raise ValueError(f"not a consent channel: {channel!r}")
    if method and method not in consent.Method.values:
        raise ValueError(f"not a consent method: {method!r}")
    if notice_version is None:
        notice_version = HospitalProfile.current().privacy_notice_version
    at = at or timezone.now()
    with transaction.atomic():
        Client.objects.select_for_update().filter(pk=client.pk).values_list("pk").get()
        states = consent_states(client)
        if granted:
            refused = [code for code in entry.needs if not states[code]]
            if refused:
                raise ValidationError(
                    _("%(purpose)s needs consent to %(needed)s first.")
                    % {
                        "purpose": entry.label,
                        "needed": consent.get_purpose(refused[0]).label,
                    }
                )
        current = (
            ClientConsent.objects.select_related("event")
            .filter(client=client, purpose=purpose)
            .first()
        )
        if (
            current is not None
            and current.granted == granted
            and current.event.notice_version == notice_version
        ):
            return None
        event = ConsentEvent.objects.create(
            client=client,
            purpose=purpose,
            granted=granted,
            notice_version=notice_version[:20],
            at=at,
            channel=channel,
            method=method,
            recorded_by=by,
            detail=detail[:200],
        )
        in_force = current is None or current.event.at <= at
        if current is None:
            ClientConsent.objects.create(
                client=client, purpose=purpose, granted=granted, event=event
            )
        elif in_force:
            current.granted, current.event = granted, event
            current.save(update_fields=["granted", "event"])
        if log:
            ClientEvent.objects.create(
                client=client,
                kind=ClientEvent.Kind.CONSENT,
                actor=by,
                fields=[purpose],
                detail=CONSENT_GRANTED if granted else CONSENT_WITHDRAWN,
            )
            audit.record(
                audit.Action.UPDATE,
                actor=by,
                obj=client,
                fields=[purpose],
                request=request,
                username=username,
            )
        if not granted and in_force:
            for dependant in consent.dependants(purpose):
                if not states[dependant]:
                    continue
                consent_record(
                    client=client,
                    purpose=dependant,
                    granted=False,
                    channel=channel,
                    by=by,
                    method=method,
                    notice_version=notice_version,
                    at=at,
                    detail=detail,
                    request=request,
                    log=log,
                    username=username,
                )
            consent_withdrawn(client, purpose)
    return event


# What a consent entry on the client's event log says (translated when the timeline shows it).
CONSENT_GRANTED = "granted"
CONSENT_WITHDRAWN = "withdrawn"


def consent_grant(*, client: Client, purpose: str, channel: str, **kwargs) -> ConsentEvent | None:
    """The client agreed to `purpose` (consent_record)."""
    return consent_record(client=client, purpose=purpose, granted=True, channel=channel, **kwargs)


def consent_withdraw(
    *, client: Client, purpose: str, channel: str, **kwargs
) -> ConsentEvent | None:
    """The client withdrew consent to `purpose`, effective at once on their pending messages
    (consent_record)."""
    return consent_record(client=client, purpose=purpose, granted=False, channel=channel, **kwargs)


@transaction.atomic
def consent_rebuild(client: Client) -> None:
    """The state in force again from the client's events (the latest per purpose): after a merge
    brought the other record's history over, or its undo took it back. What the person said
    last stands, on whichever record they said it."""
    latest = {}
    for event in ConsentEvent.objects.filter(client=client).order_by("at", "pk"):
        latest[event.purpose] = event
    ClientConsent.objects.filter(client=client).exclude(purpose__in=list(latest)).delete()
    for purpose, event in latest.items():
        ClientConsent.objects.update_or_create(
            client=client, purpose=purpose, defaults={"granted": event.granted, "event": event}
        )


def client_sms_opt_out(*, phone: str, source: str) -> int:
    """Every client with this number gets no more SMS (a STOP reply, the provider's report)."""
    clients = Client.objects.filter(phone=phone).exclude(status=Client.Status.MERGED)
    channel = consent.Channel.SMS_REPLY if source == "sms" else consent.Channel.PROVIDER
    for client in clients:
        consent_withdraw(
            client=client,
            purpose=consent.SERVICE_SMS,
            channel=channel,
            method=consent.Method.SMS if source == "sms" else "",
            detail=f"opt-out: {source}",
        )
    return len(clients)


def client_voice_opt_out(*, phone: str, source: str, client: Client | None = None) -> int:
    """Every client with this number (and `client`, the one the call was for, whose number may
    have changed since) gets no more voice calls: consent to voice notifications withdrawn (the
    one voice opt-out; its withdrawal stops their pending calls at once). A key pressed on a
    reminder call is recorded as in-app."""
    clients = list(Client.objects.filter(phone=phone).exclude(status=Client.Status.MERGED))
    if client is not None and client.pk not in {each.pk for each in clients}:
        clients.append(client)
    for each in clients:
        consent_withdraw(
            client=each,
            purpose=consent.SERVICE_VOICE,
            channel=consent.Channel.IN_APP,
            detail=f"opt-out: {source}",
        )
    return len(clients)


def client_sms_opt_in(*, phone: str, source: str) -> int:
    """START: service SMS again (marketing needs a new, recorded consent)."""
    clients = Client.objects.filter(phone=phone).exclude(status=Client.Status.MERGED)
    channel = consent.Channel.SMS_REPLY if source == "sms" else consent.Channel.PROVIDER
    for client in clients:
        consent_grant(
            client=client,
            purpose=consent.SERVICE_SMS,
            channel=channel,
            method=consent.Method.SMS if source == "sms" else "",
            detail=f"opt-in: {source}",
        )
    return len(clients)


@transaction.atomic
def client_archive(*, client: Client, by, request=None) -> Client:
    _set_status(client, Client.Status.ARCHIVED, ClientEvent.Kind.ARCHIVED, by, request)
    return client


@transaction.atomic
def client_restore(*, client: Client, by, request=None) -> Client:
    _set_status(client, Client.Status.ACTIVE, ClientEvent.Kind.RESTORED, by, request)
    return client


REVEALABLE = {
    "phone": _("mobile phone"),
    "privacy_contact_phone": _("privacy contact phone"),
    "id_number": _("ID card number"),
}


def client_reveal(*, client: Client, field: str, reason: str, by, request=None) -> str:
    """The full number behind a masked one; the reveal and its reason go to the audit trail."""
    if field not in REVEALABLE:
        raise ValidationError(_("Unknown field."))
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError(_("Say why you need the full number."))
    if field == "id_number":
        value = crypto.decrypt(client.id_number_encrypted) if client.id_number_encrypted else ""
    else:
        value = phones.national_digits(getattr(client, field))
    audit.record(
        audit.Action.REVEAL, actor=by, obj=client, fields=[field], reason=reason, request=request
    )
    return value


@transaction.atomic
def client_flag_phone(*, client: Client, by, detail: str = "") -> Client:
    """A return-visit call found the number wrong: the record says so until someone corrects
    the number (client_update clears the flag)."""
    updated = Client.objects.filter(pk=client.pk, phone_flagged_at__isnull=True).update(
        phone_flagged_at=timezone.now()
    )
    if updated:
        ClientEvent.objects.create(
            client=client, kind=ClientEvent.Kind.PHONE_FLAGGED, actor=by, detail=detail[:200]
        )
        audit.record(audit.Action.UPDATE, actor=by, obj=client, fields=["phone_flagged_at"])
    client.refresh_from_db(fields=["phone_flagged_at"])
    return client


def client_set_vip(*, client_id: int, is_vip: bool) -> bool:
    """The VIP badge every list shows, kept by the VIP app (a conditional update: True when it
    changed). Call inside the VIP service's transaction."""
    return bool(Client.objects.filter(pk=client_id).exclude(is_vip=is_vip).update(is_vip=is_vip))


# The archive list's bulk actions work on the rows ticked on a page (a page is 50): a request
# naming more is refused rather than half done.
BULK_LIMIT = 500


@transaction.atomic
def client_mark_reviewed(*, client_ids, by, request=None) -> int:
    """The maintenance round went through these records (客户管理部: 档案定期维护): each gets
    the time and the reviewer, an event on its history and an audit row. Merged records are
    left out (their survivor is the one to review). Returns how many were marked."""
    ids = sorted({int(pk) for pk in client_ids})
    if not ids:
        raise ValidationError(_("Tick the clients first."))
    if len(ids) > BULK_LIMIT:
        raise ValidationError(_("At most %(n)s clients at a time.") % {"n": f"{BULK_LIMIT:,}"})
    live = Client.objects.filter(pk__in=ids).exclude(status=Client.Status.MERGED)
    clients = list(live.only("pk", "name"))
    now = timezone.now()
    live.update(archive_reviewed_at=now, archive_reviewed_by=by)
    ClientEvent.objects.bulk_create(
        [
            ClientEvent(client=client, kind=ClientEvent.Kind.REVIEWED, actor=by, at=now)
            for client in clients
        ]
    )
    for client in clients:
        audit.record(
            audit.Action.UPDATE,
            actor=by,
            obj=client,
            fields=["archive_reviewed_at"],
            request=request,
        )
    return len(clients)


CATEGORY_FIELDS = ("is_patient", "is_member", "is_exam_client")


def client_note_activity(*, client_id: int, visited_at=None, categories=()) -> None:
    """What the departments learn of a client as they serve them: the last visit (kept on the
    record so lists need no join) and the archive categories it earns (a visit makes a patient,
    a membership card a member, an exam order an exam client). Conditional UPDATEs, no lock:
    the latest visit wins, a category once earned stays. Call inside the department's own
    transaction."""
    unknown = set(categories) - set(CATEGORY_FIELDS)
    if unknown:
        raise ValueError(f"not archive categories: {sorted(unknown)}")
    rows = Client.objects.filter(pk=client_id)
    if visited_at is not None:
        rows.filter(Q(last_visit_at__isnull=True) | Q(last_visit_at__lt=visited_at)).update(
            last_visit_at=visited_at
        )
    for name in categories:
        rows.filter(**{name: False}).update(**{name: True})


# Blank fields of the survivor that a merge fills from the merged record.
FILLABLE = [
    "sex",
    "date_of_birth",
    "education",
    "family_status",
    "health_status",
    "exam_status",
    "phone",
    "phone_last4",
    "other_contact",
    "privacy_contact_name",
    "privacy_contact_relation",
    "privacy_contact_phone",
    "source_channel_id",
    "is_patient",
    "is_member",
    "is_exam_client",
    "is_vip",
]
ID_COLUMNS = ["id_number_encrypted", "id_number_hash", "id_number_masked"]


def _blank(value):
    return value in (None, "", False, Client.Sex.UNKNOWN)


# The relations to a client that a merge leaves where they are: they record the merge itself
# (the merge's two records, and the merged record's pointer to the survivor). Every other
# foreign key or one-to-one to Client, in any app, follows the person (merge_relations).
# tests/clientmgmt/test_merge.py fails on a relation to Client that is neither.
NOT_MERGED = frozenset(
    {
        "clientmgmt.Client.merged_into",
        "clientmgmt.ClientMerge.survivor",
        "clientmgmt.ClientMerge.merged",
        # The consent in force is rebuilt from the history that moves (consent_rebuild): two
        # records each hold a state per purpose, and only one can stay.
        "clientmgmt.ClientConsent.client",
    }
)


def merge_relations() -> list[tuple[type, str]]:
    """(model, field name) of every foreign key and one-to-one to Client that a merge moves,
    read from the models themselves, so a new relation to a client follows a merge without
    being registered anywhere. Hidden relations (related_name="+": an import row, an outbox
    message) count too: Client._meta.related_objects leaves them out, get_fields does not."""
    relations = []
    for relation in Client._meta.get_fields(include_hidden=True):
        if not isinstance(relation, models.ForeignObjectRel):
            continue  # a field of the client row itself
        if not (relation.one_to_many or relation.one_to_one):
            continue  # a many-to-many has no column to move (the test refuses one)
        model, field_name = relation.related_model, relation.field.name
        if f"{model._meta.label}.{field_name}" not in NOT_MERGED:
            relations.append((model, field_name))
    return relations


def client_merge(
    *,
    survivor: Client,
    merged: Client,
    by,
    request=None,
    request_key: str = "",
    keep_merged=(),
) -> ClientMerge:
    """Move every row of every relation (merge_relations) from `merged` to `survivor`, fill the
    survivor's blanks, take the merged record's value of the fields in `keep_merged`
    (ClientMerge.KEEPABLE: staff chose it over the survivor's), and mark `merged` as merged.
    Sends nothing to the client. The merge form sent twice (`request_key`, its one-time key: a
    double click) finds the first merge."""
    unknown = set(keep_merged) - set(ClientMerge.KEEPABLE)
    if unknown:
        raise ValueError(f"not fields a merge may take: {sorted(unknown)}")
    taken = {column for name in keep_merged for column in ClientMerge.KEEPABLE[name]}
    return create_once(
        ClientMerge,
        request_key,
        lambda: _merge(
            survivor, merged, by=by, request=request, request_key=request_key, taken=taken
        ),
    )[0]


@transaction.atomic
def _merge(survivor: Client, merged: Client, *, by, request, request_key, taken) -> ClientMerge:
    # Lock both rows (in id order, so two opposite merges cannot deadlock).
    locked = {
        c.pk: c
        for c in Client.objects.select_for_update()
        .filter(pk__in=[survivor.pk, merged.pk])
        .order_by("pk")
    }
    survivor, merged = locked.get(survivor.pk), locked.get(merged.pk)
    if survivor is None or merged is None or survivor.pk == merged.pk:
        raise ValidationError(_("Choose two different records."))
    if Client.Status.MERGED in (survivor.status, merged.status):
        raise ValidationError(_("One of these records has already been merged."))
    check_merge(survivor, merged)
    moved = {}
    for model, field_name in merge_relations():
        rows = model.objects.filter(**{field_name: merged})
        ids = list(rows.values_list("pk", flat=True))
        if ids:
            # The plain base manager: history rows (append-only) move with the person too.
            model._base_manager.filter(pk__in=ids).update(**{field_name: survivor})
            moved[f"{model._meta.label}.{field_name}"] = ids
    filled = {}
    for name in FILLABLE:
        ours, theirs = getattr(survivor, name), getattr(merged, name)
        if not _blank(theirs) and ours != theirs and (_blank(ours) or name in taken):
            filled[name] = ours
            setattr(survivor, name, theirs)
    taken_id = {}
    if not survivor.id_number_hash and merged.id_number_hash:
        taken_id = {name: getattr(merged, name) for name in ID_COLUMNS}
        for name in ID_COLUMNS:
            setattr(merged, name, None if name == "id_number_hash" else "")
    merged.status, merged.merged_into = Client.Status.MERGED, survivor
    merged.updated_at, merged.updated_by = timezone.now(), by
    merged.save()  # frees the ID hash before the survivor takes it
    if taken_id:
        for name, value in taken_id.items():
            setattr(survivor, name, value)
    survivor.updated_at, survivor.updated_by = timezone.now(), by
    survivor.save()
    merge = ClientMerge.objects.create(
        survivor=survivor,
        merged=merged,
        merged_by=by,
        request_key=request_key,
        moved=moved,
        filled={"fields": {k: _jsonable(v) for k, v in filled.items()}, "id": bool(taken_id)},
    )
    ClientEvent.objects.create(
        client=survivor, kind=ClientEvent.Kind.MERGED_IN, actor=by, detail=_known_as(merged)
    )
    ClientEvent.objects.create(
        client=merged, kind=ClientEvent.Kind.MERGED_AWAY, actor=by, detail=_known_as(survivor)
    )
    for client in (survivor, merged):
        audit.record(audit.Action.UPDATE, actor=by, obj=client, fields=["merge"], request=request)
    consent_rebuild(survivor)  # the merged record's consent history came over
    return merge


def _known_as(client: Client) -> str:
    """The other record of a merge as the timeline names it: as staff know it (name and masked
    phone, two records of one person often share the name), never by its record number."""
    return f"{client.name} ({client.phone_masked})" if client.phone else client.name


def _jsonable(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


@transaction.atomic
def client_unmerge(*, merge: ClientMerge, by, request=None) -> ClientMerge:
    """Undo a merge: the moved rows go back, the survivor's filled fields are emptied again where
    nobody changed them since, and the merged record is active once more."""
    merge = ClientMerge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at:
        raise ValidationError(_("This merge has already been undone."))
    survivor = Client.objects.select_for_update().get(pk=merge.survivor_id)
    merged = Client.objects.select_for_update().get(pk=merge.merged_id)
    relations = {
        f"{model._meta.label}.{field}": (model, field) for model, field in merge_relations()
    }
    for key, ids in merge.moved.items():
        model, field_name = relations[key]
        rows = model._base_manager.filter(pk__in=ids, **{field_name: survivor})
        rows.update(**{field_name: merged})
    for name, original in merge.filled.get("fields", {}).items():
        current = getattr(survivor, name)
        if _jsonable(current) == _jsonable(getattr(merged, name)):
            setattr(survivor, name, original)
    if merge.filled.get("id"):
        taken = {name: getattr(survivor, name) for name in ID_COLUMNS}
        for name in ID_COLUMNS:
            setattr(survivor, name, None if name == "id_number_hash" else "")
        survivor.save()
        for name, value in taken.items():
            setattr(merged, name, value)
    survivor.updated_at, survivor.updated_by = timezone.now(), by
    survivor.save()
    merged.status, merged.merged_into = Client.Status.ACTIVE, None
    merged.updated_at, merged.updated_by = timezone.now(), by
    merged.save()
    merge.undone_at, merge.undone_by = timezone.now(), by
    merge.save(update_fields=["undone_at", "undone_by"])
    for client in (survivor, merged):
        consent_rebuild(client)
    for client, other in ((survivor, merged), (merged, survivor)):
        ClientEvent.objects.create(
            client=client, kind=ClientEvent.Kind.UNMERGED, actor=by, detail=_known_as(other)
        )
        audit.record(audit.Action.UPDATE, actor=by, obj=client, fields=["unmerge"], request=request)
    return merge


# --- Imports of legacy lists -------------------------------------------------------------------


def _duplicates_by_row(cleaned_rows: list[dict]) -> list[list[int]]:
    """Existing records matching each row (phone, ID card, or name + date of birth), found with
    three queries for the whole file rather than three per row."""
    phones = {row["phone"] for row in cleaned_rows if row.get("phone")}
    hashes = {crypto.keyed_hash(row["id_number"]) for row in cleaned_rows if row.get("id_number")}
    names = {row["name"] for row in cleaned_rows if row.get("name") and row.get("date_of_birth")}
    live = Client.objects.exclude(status=Client.Status.MERGED)
    by_phone, by_hash, by_name = {}, {}, {}
    for pk, phone in live.filter(phone__in=phones).values_list("pk", "phone"):
        by_phone.setdefault(phone, []).append(pk)
    for pk, value in live.filter(id_number_hash__in=hashes).values_list("pk", "id_number_hash"):
        by_hash.setdefault(value, []).append(pk)
    for pk, name, born in live.filter(name__in=names).values_list("pk", "name", "date_of_birth"):
        by_name.setdefault((name, born), []).append(pk)
    result = []
    for row in cleaned_rows:
        ids = list(by_phone.get(row.get("phone"), []))
        if row.get("id_number"):
            ids += by_hash.get(crypto.keyed_hash(row["id_number"]), [])
        ids += by_name.get((row.get("name"), row.get("date_of_birth")), [])
        result.append(sorted(set(ids)))
    return result


@transaction.atomic
def client_import_create(
    *, file_name: str, raw: bytes, by, request=None, request_key: str = ""
) -> ClientImport:
    """Read and check an uploaded list; nothing is written to clients until it is started. The
    upload form sent twice (`request_key`, its one-time key) makes one import."""
    return create_once(
        ClientImport,
        request_key,
        lambda: _import_create(file_name, raw, by=by, request=request, request_key=request_key),
    )[0]


def _import_create(file_name: str, raw: bytes, *, by, request, request_key) -> ClientImport:
    table = imports.read_table(file_name, raw)
    if not table:
        raise imports.ImportFileError(_("The file is empty."))
    columns = imports.map_headers(table[0])
    body = [
        (n, cells)
        for n, cells in enumerate(table[1:], start=2)
        if any(str(c).strip() for c in cells)
    ]
    if not body:
        raise imports.ImportFileError(_("The file has no rows below its header."))
    if len(body) > imports.MAX_ROWS:
        raise imports.ImportFileError(_("At most 10,000 rows per file; split the file."))
    checked = []
    seen: dict[str, int] = {}
    for number, cells in body:
        values = {
            field: str(cells[i]).strip() if i < len(cells) else "" for i, field in columns.items()
        }
        cleaned, errors = imports.check_row(values)
        for key in (cleaned.get("phone"), cleaned.get("id_number")):
            if key and key in seen:
                errors.append(
                    _("Same phone or ID card number as row %(row)s.") % {"row": seen[key]}
                )
            elif key:
                seen[key] = number
        checked.append((number, cleaned, errors))
    duplicates = _duplicates_by_row([cleaned for _n, cleaned, errors in checked])
    job = ClientImport.objects.create(
        file_name=file_name[:200], uploaded_by=by, total_rows=len(checked), request_key=request_key
    )
    ClientImportRow.objects.bulk_create(
        [
            ClientImportRow(
                job=job,
                row_number=number,
                data_encrypted=crypto.encrypt(json.dumps(cleaned, default=str)),
                display={
                    "name": cleaned.get("name", ""),
                    "phone": phones.mask(cleaned.get("phone", "")),
                    "id_number": mask_id_number(cleaned.get("id_number", "")),
                    "date_of_birth": str(cleaned.get("date_of_birth") or ""),
                },
                errors=errors,
                duplicate_ids=dups if not errors else [],
                action=ClientImportRow.Action.SKIP
                if dups and not errors
                else ClientImportRow.Action.CREATE,
            )
            for (number, cleaned, errors), dups in zip(checked, duplicates, strict=True)
        ],
        batch_size=1000,
    )
    audit.record(audit.Action.CREATE, actor=by, obj=job, request=request)
    return job


@transaction.atomic
def client_import_start(
    *, job: ClientImport, actions: dict[int, str], by, request=None
) -> ClientImport:
    """Confirm the preview: record skip or merge for each row with duplicates, and queue the job."""
    job = ClientImport.objects.select_for_update().get(pk=job.pk)
    if job.status != ClientImport.Status.PREVIEW:
        raise ValidationError(_("This import has already been started."))
    allowed = {ClientImportRow.Action.SKIP, ClientImportRow.Action.MERGE}
    for row in job.rows.exclude(duplicate_ids=[]).only("pk", "action"):
        action = actions.get(row.pk)
        if action in allowed and action != row.action:
            row.action = action
            row.save(update_fields=["action"])
    job.status = ClientImport.Status.QUEUED
    job.save(update_fields=["status"])
    from .tasks import client_import_run  # the task module imports services

    client_import_run.delay_on_commit(job.pk)
    return job


def _import_row(row: ClientImportRow, by) -> tuple[str, Client | None]:
    if row.errors:
        raise ValidationError(row.errors)
    data = json.loads(crypto.decrypt(row.data_encrypted))
    if data.get("date_of_birth"):
        data["date_of_birth"] = datetime.date.fromisoformat(data["date_of_birth"])
    data["is_patient"] = True
    existing = Client.objects.filter(pk__in=row.duplicate_ids).exclude(status=Client.Status.MERGED)
    target = existing.order_by("pk").first()
    if row.duplicate_ids and target is not None:
        if row.action == ClientImportRow.Action.MERGE:
            blanks = {
                k: v for k, v in data.items() if k in PLAIN_FIELDS and _blank(getattr(target, k))
            }
            if data.get("id_number") and not target.id_number_hash:
                blanks["id_number"] = data["id_number"]
            return ClientImportRow.Outcome.MERGED, client_update(client=target, data=blanks, by=by)
        return ClientImportRow.Outcome.SKIPPED, target
    # Registered meanwhile (the desk, another import): the row finds the person (client_register).
    client, new = client_register(data=data, by=by, event_kind=ClientEvent.Kind.IMPORTED)
    return ClientImportRow.Outcome.CREATED if new else ClientImportRow.Outcome.SKIPPED, client


def _finish_import_row(job, row) -> None:
    row.data_encrypted = ""
    row.save(update_fields=["outcome", "client", "message", "data_encrypted"])
    ClientImport.objects.filter(pk=job.pk).update(processed_rows=F("processed_rows") + 1)


def client_import_run(*, job_id: int, batch: int = 200) -> ClientImport | None:
    """Write the rows of a queued import. Each row commits or rolls back on its own, so a failed
    row never stops the others and nothing is half-written; safe to run again after a crash
    (it continues with the rows that have no outcome yet)."""
    started = ClientImport.objects.filter(
        pk=job_id, status__in=[ClientImport.Status.QUEUED, ClientImport.Status.RUNNING]
    ).update(status=ClientImport.Status.RUNNING, started_at=timezone.now())
    if not started:
        return None  # not queued (already done, or never confirmed): nothing to do
    job = ClientImport.objects.select_related("uploaded_by").get(pk=job_id)
    while True:
        rows = list(job.rows.filter(outcome="").order_by("row_number")[:batch])
        if not rows:
            break
        for row in rows:
            try:
                # The row's outcome commits with the client it made: a worker killed between
                # the two would otherwise leave a written client with a row still to do, and
                # the redelivered job would write it again.
                with transaction.atomic():
                    row.outcome, row.client = _import_row(row, job.uploaded_by)
                    row.message = ""
                    _finish_import_row(job, row)
            except ValidationError as exc:
                row.outcome, row.client, row.message = (
                    ClientImportRow.Outcome.FAILED,
                    None,
                    "; ".join(exc.messages)[:300],
                )
                _finish_import_row(job, row)
            except Exception:  # one broken row must not stop the rest; the log has the trace
                logger.exception("client import %s row %s failed", job.pk, row.row_number)
                row.outcome, row.client = ClientImportRow.Outcome.FAILED, None
                row.message = _("This row could not be saved.")
                _finish_import_row(job, row)
    ClientImport.objects.filter(pk=job.pk).update(
        status=ClientImport.Status.DONE, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job
