import json
import re
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from zhongdu import crypto, roles
from zhongdu.links import row_link

from . import consent
from .models import Client, ClientConsent, ClientEvent, ClientImport, ClientMerge, ConsentEvent
from .registry import (
    TimelineEntry,
    client_ids_by_identifier,
    may_see_whole_record,
    timeline_columns,
    user_name,
    whole_record_ids,
)
from .search import ClientQuery

# Twenty rows answer a search (type more to narrow it); rendering was most of a search page's
# time, and a GIN match cannot stop early at a larger LIMIT.
SEARCH_LIMIT = 20

# Roles that may change a client record (everyone else reads).
CLIENT_WRITERS = roles.CLIENT_EDITORS


def client_get_for_user(user, pk, *, write=False, whole=False) -> Client:
    """The one way views fetch a client: 404 if there is none, 403 if the user may not. With
    whole=True (edits, reveals, consent, archiving, merging, the full page) also 403 unless the
    discretion rule lets the user see the whole record (a VIP's only for those who serve them,
    clientmgmt.registry); pages that may show the masked summary use client_shown_for_user."""
    try:
        # Only what the client page shows: a wide join of users and the merged-into client cost
        # more to build and read than the page's own query.
        client = Client.objects.select_related("source_channel").get(pk=pk)
    except (Client.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if write and not (roles.user_roles(user) & CLIENT_WRITERS):
        raise PermissionDenied
    if whole and not may_see_whole_record(user, client):
        raise PermissionDenied
    return client


def clients_get_for_user(user, pks, *, write=False) -> list[Client]:
    """client_get_for_user for the rows ticked in a list (one query): the live records among
    `pks` (merged ones left out), 403 if the user may not."""
    if write and not (roles.user_roles(user) & CLIENT_WRITERS):
        raise PermissionDenied
    return list(
        Client.objects.filter(pk__in=list(pks)).exclude(status=Client.Status.MERGED).order_by("pk")
    )


# What a reader who may not see a client's whole record (a VIP's, to those who do not serve them:
# the discretion rule, seed 保密原则) sees of it: the client page's masked summary. Never the date
# of birth, the ID number (even masked), notes, contacts or anything else of the record.
SUMMARY_FIELDS = frozenset(
    {
        "pk",
        "id",
        "name",
        "sex",
        "get_sex_display",
        "age",
        "age_on",
        "phone_masked",
        "is_vip",
        "is_patient",
        "is_member",
        "is_exam_client",
        "categories",
        "last_visit_at",
        "status",
        "get_status_display",
        "get_absolute_url",
    }
)


class ShownClient:
    """A client as one reader may see it, for pages and lists: the whole record when the
    discretion rule allows (`whole`), otherwise only SUMMARY_FIELDS; any other attribute reads as
    None, so a template or an export that asks for more shows nothing (fail closed)."""

    __slots__ = ("_client", "whole")

    def __init__(self, client: Client, *, whole: bool):
        self._client = client
        self.whole = whole

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if self.whole or name in SUMMARY_FIELDS:
            return getattr(self._client, name)
        return None

    def __str__(self):
        return str(self._client)

    def __repr__(self):
        return f"<ShownClient {self._client.pk} whole={self.whole}>"

    def __eq__(self, other):
        # Equal to the record it shows, so `client in shown_list` keeps working.
        if isinstance(other, ShownClient):
            other = other._client
        return self._client == other

    def __hash__(self):
        return hash(self._client)


def clients_shown_for_user(user, clients) -> list[ShownClient]:
    """What `user` may see of each of `clients` (the discretion rule asked once for the whole list:
    a fixed number of queries whatever its length). user None: nobody in particular, so a VIP
    shows only their summary."""
    clients = list(clients)
    allowed = whole_record_ids(user, clients) if user is not None else set()
    return [
        ShownClient(client, whole=not client.is_vip or client.pk in allowed) for client in clients
    ]


def client_shown_for_user(user, client) -> ShownClient:
    return clients_shown_for_user(user, [client])[0]


def client_search(query: ClientQuery):
    """Up to SEARCH_LIMIT matching clients, merged records left out, without counting.

    Each form of query uses its own index (clientmgmt.models.Client.Meta): the phone, its last
    four digits, the ID number's keyed hash, or the search tokens. No ORDER BY on token matches:
    ordering would make Postgres read every match; the page sorts the few it shows.
    """
    qs = Client.objects.exclude(status=Client.Status.MERGED).only(
        "id",
        "name",
        "sex",
        "date_of_birth",
        "phone",
        "id_number_masked",
        "is_patient",
        "is_member",
        "is_exam_client",
        "is_vip",
        "last_visit_at",
        "status",
    )
    if query.kind == "phone":
        qs = qs.filter(phone=query.value)
    elif query.kind == "last4":
        qs = qs.filter(phone_last4=query.value)
    elif query.kind == "id_number":
        qs = qs.filter(id_number_hash=crypto.keyed_hash(query.value))
    elif query.kind == "card":
        qs = qs.filter(pk__in=client_ids_by_identifier(query.value))
    elif query.kind == "name":
        qs = qs.filter(Q(name=query.value) | Q(search_terms__term_prefix=query.value))
    else:
        return []
    rows = list(qs[:SEARCH_LIMIT])
    rows.sort(key=lambda c: (c.name != query.value, c.status != Client.Status.ACTIVE, c.name))
    return rows


def search_rows(clients: list[ShownClient], merge_links=None) -> list[dict]:
    """The search results as the results table shows them, each value worked out once per row
    here rather than per cell in the template: the client page's address, the labels, the
    masked numbers ("—" for none), the categories and the last visit's date. Built from what the
    reader may see (ShownClient), so a VIP's summary still shows no ID number. `merge_links`:
    {client id: the "Merge with…" address} for the rows that have one."""
    link = row_link("clientmgmt:client_detail")
    merge_links = merge_links or {}
    # The labels in the reader's language, once for the page.
    sexes = {value: str(label) for value, label in Client.Sex.choices}
    categories = [(flag, str(label)) for flag, label in Client.CATEGORIES]
    today = timezone.localdate()
    rows = []
    for client in clients:
        last_visit, age = client.last_visit_at, client.age_on(today)
        rows.append(
            {
                "pk": client.pk,
                "url": link(client.pk),
                "name": client.name,
                "is_vip": client.is_vip,
                "archived": client.status == Client.Status.ARCHIVED,
                "merge_url": merge_links.get(client.pk, ""),
                "sex": sexes.get(client.sex, client.sex),
                "age": "—" if age is None else age,
                "phone": client.phone_masked or "—",
                "id_number": client.id_number_masked or "—",
                "categories": [label for flag, label in categories if getattr(client, flag)],
                "last_visit": (
                    timezone.localtime(last_visit).strftime("%Y-%m-%d") if last_visit else "—"
                ),
            }
        )
    return rows


def client_search_for_user(user, query: ClientQuery) -> list[ShownClient]:
    """client_search as `user` may see it: search results of a VIP whom the user does not serve
    show the summary (no date of birth, no ID number)."""
    return clients_shown_for_user(user, client_search(query))


def merge_candidates(user, query: ClientQuery, *, leave_out=()) -> list[ShownClient]:
    """What the merge page offers for a search: the records `user` may see whole (a VIP's only
    to those who serve them, the discretion rule), merged records and `leave_out` left out."""
    return [
        shown
        for shown in client_search_for_user(user, query)
        if shown.whole and shown.pk not in leave_out
    ]


def merge_get_for_user(user, pk) -> ClientMerge:
    """The one way views fetch a merge (its result page, its undo): 404 if there is none, 403
    unless `user` may see both records whole, as merging them asked (the discretion rule: a VIP's
    merge only for those who serve them)."""
    try:
        merge = ClientMerge.objects.select_related(
            "survivor", "merged", "merged_by", "undone_by"
        ).get(pk=pk)
    except (ClientMerge.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    pair = [merge.survivor, merge.merged]
    if whole_record_ids(user, pair) != {client.pk for client in pair}:
        raise PermissionDenied
    return merge


def merge_differences(survivor: Client, merged: Client, *, keep_merged=()) -> list[dict]:
    """The fields (ClientMerge.KEEPABLE) where both records hold a value and the values differ,
    for the side-by-side view to ask which one stays: each with its label, both values as staff
    read them (a phone masked) and whether the merged record's is chosen."""
    rows = []
    for name in ClientMerge.KEEPABLE:
        ours, theirs = getattr(survivor, name), getattr(merged, name)
        if ours in (None, "", Client.Sex.UNKNOWN) or theirs in (None, "", Client.Sex.UNKNOWN):
            continue  # a blank is filled from the other record: nothing to choose
        if ours == theirs:
            continue
        rows.append(
            {
                "name": name,
                "label": capfirst(Client._meta.get_field(name).verbose_name),
                "values": (_shown_value(survivor, name), _shown_value(merged, name)),
                "merged_chosen": name in keep_merged,
            }
        )
    return rows


def _shown_value(client: Client, name: str) -> str:
    if name == "phone":
        return client.phone_masked
    if name == "date_of_birth":
        return client.date_of_birth.isoformat()
    return str(getattr(client, f"get_{name}_display")())


# The merge page, which the duplicate warnings, the client page and the search results link to.
MERGE_PAGE = "clientmgmt:merge_select"


def merge_url(**records) -> str:
    """The side-by-side view of two records (or the merge page with one picked): record
    references in the link, nothing to type."""
    return f"{reverse(MERGE_PAGE)}?{urlencode(records)}"


def merge_offers(user, shown, client=None) -> dict:
    """{duplicate id: [(the record to merge it with, link)]} for a duplicate warning (the client
    form's, the walk-in's): on an edit each duplicate with the record being edited, on a new
    record each pair of the duplicates found; only records the user may see whole (`shown`:
    ShownClient), and only for a role that may open the merge page."""
    if not roles.user_may_open(user, MERGE_PAGE):
        return {}
    visible = [other for other in shown if other.whole]
    if client is not None:
        return {
            other.pk: [(client, merge_url(survivor=other.pk, merged=client.pk))]
            for other in visible
        }
    return {
        other.pk: [(first, merge_url(survivor=first.pk, merged=other.pk)) for first in visible[:i]]
        for i, other in enumerate(visible)
        if i
    }


def client_registered_by(key: str) -> Client | None:
    """The record a registration form's one-time key wrote, if any (the form sent again)."""
    return Client.objects.filter(request_key=key).first() if key else None


def client_duplicates(*, phone="", id_number="", name="", date_of_birth=None, exclude_pk=None):
    """Existing records that may be the same person: same phone, same ID card, or same name and
    date of birth."""
    condition = Q(pk__in=[])
    if phone:
        condition |= Q(phone=phone)
    if id_number:
        condition |= Q(id_number_hash=crypto.keyed_hash(id_number))
    if name and date_of_birth:
        condition |= Q(name=name, date_of_birth=date_of_birth)
    qs = Client.objects.filter(condition).exclude(status=Client.Status.MERGED)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return list(qs.order_by("pk")[:10])


# Events whose field list is the whole form: listing it would say nothing.
_FIELDS_NOT_SHOWN = {ClientEvent.Kind.CREATED, ClientEvent.Kind.IMPORTED}


def _field_labels(names):
    labels = []
    for name in names:
        if name == "id_number":
            labels.append(_("ID card number"))
            continue
        if name in consent.PURPOSES:
            labels.append(str(consent.PURPOSES[name].label))
            continue
        try:
            labels.append(str(Client._meta.get_field(name).verbose_name))
        except FieldDoesNotExist:
            labels.append(name)
    return labels


def client_event_rows(client):
    """The client record's own history, for the timeline (clientmgmt.registry)."""
    return ClientEvent.objects.filter(client=client).values(
        **timeline_columns(
            kind="record",
            at="at",
            status="kind",
            first="detail",
            second="fields",
            actor=user_name("actor"),
        )
    )


_RECORD_NUMBER = re.compile(r"#\d+")


_CONSENT_DETAILS = {"granted": _lazy("granted"), "withdrawn": _lazy("withdrawn")}


def client_event_entry(row) -> TimelineEntry:
    kind = row["t_status"]
    if kind == ClientEvent.Kind.CONSENT and row["t_first"] in _CONSENT_DETAILS:
        row = {**row, "t_first": str(_CONSENT_DETAILS[row["t_first"]])}
    fields = [] if kind in _FIELDS_NOT_SHOWN else json.loads(row["t_second"] or "[]")
    return TimelineEntry(
        at=row["t_at"],
        kind=kind,
        title=str(ClientEvent.Kind(kind).label) if kind in ClientEvent.Kind.values else kind,
        # Merges written before the timeline named the other record gave its number ("#12"):
        # an internal number staff do not use, left out.
        detail="" if _RECORD_NUMBER.fullmatch(row["t_first"] or "") else row["t_first"],
        actor=row["t_actor"],
        extra={"fields": _field_labels(fields)},
    )


def client_import_get(token) -> ClientImport:
    try:
        return ClientImport.objects.select_related("uploaded_by").get(token=token)
    except (ClientImport.DoesNotExist, ValueError):
        raise Http404 from None


def client_import_rows(job, *, problems_only=False, after=0, size=500):
    """A page of an import's rows in file order, after row number `after` (keyset)."""
    rows = job.rows.filter(row_number__gt=after).select_related("client").order_by("row_number")
    if problems_only:
        rows = rows.exclude(errors=[], duplicate_ids=[])
    rows = list(rows[: size + 1])
    return rows[:size], (rows[size - 1].row_number if len(rows) > size else None)


def client_import_counts(job) -> dict:
    rows = job.rows.all()
    return {
        "errors": rows.exclude(errors=[]).count(),
        "duplicates": rows.exclude(duplicate_ids=[]).count(),
        "outcomes": dict(
            rows.exclude(outcome="").values_list("outcome").annotate(n=Count("pk")).order_by()
        ),
    }


# --- Consent (clientmgmt.consent) ------------------------------------------------


def consent_states(client) -> dict[str, bool]:
    """{purpose: in force} for every purpose of clientmgmt.consent, the purpose's default where
    nothing is recorded. One query."""
    recorded = dict(ClientConsent.objects.filter(client=client).values_list("purpose", "granted"))
    return {code: recorded.get(code, p.default) for code, p in consent.PURPOSES.items()}


def consent_recorded(client, purpose: str) -> bool | None:
    """The client's recorded answer for `purpose` (True granted, False withdrawn), or None when
    nothing is recorded (the purpose's default stands). One query on the unique index."""
    return (
        ClientConsent.objects.filter(client=client, purpose=consent.get_purpose(purpose).code)
        .values_list("granted", flat=True)
        .first()
    )


def has_consent(client, purpose: str) -> bool:
    return consent_states(client)[consent.get_purpose(purpose).code]


def consent_condition(purpose: str, client=None):
    """A filter condition: the client (`client`, an expression such as OuterRef("client");
    default the row itself, for Client querysets) has consent to `purpose` in force. An EXISTS
    on the (client, purpose) unique index: granted where the purpose needs a recorded consent,
    not refused where it is on unless refused."""
    entry = consent.get_purpose(purpose)
    ref = client if client is not None else OuterRef("pk")
    if entry.default:
        return ~Exists(ClientConsent.objects.filter(client=ref, purpose=purpose, granted=False))
    return Exists(ClientConsent.objects.filter(client=ref, purpose=purpose, granted=True))


def clients_with_consent(clients, purpose: str):
    """The clients of a queryset who have consent to `purpose` in force."""
    return clients.filter(consent_condition(purpose))


def consent_annotations(client=None) -> dict:
    """Annotations {f"consent_{purpose}": in force} for every purpose, for a queryset of
    clients (or, with `client` = OuterRef("client"), of rows pointing to one): the send-time
    rules read them without a query per row (consent_from_row)."""
    return {f"consent_{code}": consent_condition(code, client) for code in consent.PURPOSES}


def consent_from_row(row) -> dict[str, bool]:
    """{purpose: in force} from a row annotated with consent_annotations."""
    return {code: bool(getattr(row, f"consent_{code}")) for code in consent.PURPOSES}


@dataclass(frozen=True)
class ConsentShown:
    """One purpose on the client page: the state in force and the event that set it (None: the
    purpose's default, nothing recorded)."""

    purpose: consent.Purpose
    granted: bool
    event: ConsentEvent | None


def consent_overview(client) -> tuple[list[ConsentShown], list[ConsentEvent]]:
    """The client page's consent card: each purpose in force (with the notice version, time,
    channel and who recorded it) and the history, newest first (the latest
    CONSENT_HISTORY_LIMIT events, and those in force however old). One query: the events in
    force sort first."""
    in_force = Exists(ClientConsent.objects.filter(client=client, event=OuterRef("pk")))
    events = list(
        ConsentEvent.objects.filter(client=client)
        .annotate(in_force=in_force)
        .select_related("recorded_by")
        .order_by("-in_force", "-at", "-pk")[: CONSENT_HISTORY_LIMIT + len(consent.PURPOSES)]
    )
    states = {event.purpose: event for event in events if event.in_force}
    shown = [
        ConsentShown(
            purpose=purpose,
            granted=states[code].granted if code in states else purpose.default,
            event=states.get(code),
        )
        for code, purpose in consent.PURPOSES.items()
    ]
    history = sorted(events, key=lambda event: (event.at, event.pk), reverse=True)
    return shown, history


CONSENT_HISTORY_LIMIT = 50
