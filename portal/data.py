"""My data (PIPL, /my/data/): the person's consents and their withdrawal, the copy of their
personal information (a readable PDF and a JSON file), and their requests to correct or delete
it, which are staff tasks with a deadline in working days and an audited decision. Also the
client page's panel on which staff record and withdraw a dependant's authorisation.

The copy holds what the hospital holds about the person (PIPL art. 45): the record's fields, the
contacts, consents, bookings, visits and charges, released exam results, care plans and the
messages sent to them. Staff-internal working notes (the record's notes, call notes, complaint
handling) are left out: they are the staff's working papers, not information the person gave or
received."""

import datetime
import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clientmgmt import consent
from clientmgmt.models import Client
from clientmgmt.selectors import consent_overview
from clientmgmt.services import consent_withdraw
from consult.models import Booking
from exams.models import ExamResult
from followup.models import CarePlan
from followup.services import PLAN_TEXTS
from guide.models import Charge, Visit
from messaging.models import Kind, OutboxMessage, Purpose
from messaging.services import hospital_placeholder_values, outbox_enqueue
from zhongdu import audit, roles
from zhongdu.exports import Export
from zhongdu.models import AuditEvent
from zhongdu.pdf import hospital_name
from zhongdu.services import create_once, notify_role
from zhongdu.workcalendar import WorkCalendar

from .models import DataRequest, DataRequestEvent, PortalDependant
from .results import critical_waiting
from .services import portal_username

Status = DataRequest.Status

# The one map of allowed moves: a request is decided once.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.OPEN: frozenset({Status.DONE, Status.PARTLY, Status.REFUSED}),
    Status.DONE: frozenset(),
    Status.PARTLY: frozenset(),
    Status.REFUSED: frozenset(),
}
DECISIONS = [(Status.DONE, Status.DONE.label), (Status.PARTLY, Status.PARTLY.label),
             (Status.REFUSED, Status.REFUSED.label)]  # fmt: skip

# Each part of the copy holds at most this many rows (newest first): the copy stays cheap to
# build, and a person with more asks the desk for the rest.
COPY_ROWS = 500
# Copies of one record downloaded in an hour (PDF and JSON together).
COPIES_PER_HOUR = 10

# What the person reads about a deletion request, whatever was decided (PIPL art. 47: the law's
# retention periods prevail; 医疗机构病历管理规定: outpatient records are kept 15 years).
KEPT_RECORDS = gettext_lazy(
    "The law requires the hospital to keep outpatient records, visits, charges and exam "
    "results for a set time: those are kept even after a deletion request, and are used only "
    "for that purpose."
)


# --- Consents -----------------------------------------------------------------------------


def portal_consents(subject: Client):
    """The person's consents per purpose, with the notice version and date (one query)."""
    shown, _history = consent_overview(subject)
    return shown


def portal_consent_withdraw(*, patient, purpose: str):
    """The person withdraws `purpose` on the portal: the one consent service (the state in
    force, the client's log, the audit trail, and messaging's suppression of pending messages
    through clientmgmt.registry.consent_withdrawn), recorded as the portal."""
    consent.get_purpose(purpose)  # ValueError for a purpose that does not exist
    return consent_withdraw(
        client=patient.subject,
        purpose=purpose,
        channel=consent.Channel.PORTAL,
        method=consent.Method.PORTAL,
        username=portal_username(patient.client),
    )


# --- The copy of one's personal information -----------------------------------------------


def copies_left(patient) -> int:
    """Copies this person may still download this hour (the audit trail counts them, on its
    index by username)."""
    since = timezone.now() - datetime.timedelta(hours=1)
    used = AuditEvent.objects.filter(
        actor_username=portal_username(patient.client),
        action=audit.Action.EXPORT,
        occurred_at__gte=since,
    ).count()
    return max(COPIES_PER_HOUR - used, 0)


def _day(value):
    return value.isoformat() if value else ""


def _moment(value):
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _record(client: Client) -> dict:
    # The ID card number is given masked: the file is saved on a phone and easily forwarded
    # (a WeChat chat), and the whole number is the key to identity fraud; the person reads it
    # in full at the desk with their card.
    return {
        "name": client.name,
        "sex": client.get_sex_display(),
        "date_of_birth": _day(client.date_of_birth),
        "id_number": client.id_number_masked,
        "mobile": client.phone,
        "other_contact": client.other_contact,
        "privacy_contact": {
            "name": client.privacy_contact_name,
            "relation": client.privacy_contact_relation,
            "phone": client.privacy_contact_phone,
        },
        "education": client.get_education_display() if client.education else "",
        "family_status": client.get_family_status_display() if client.family_status else "",
        "health_status": client.get_health_status_display() if client.health_status else "",
        "source_channel": str(client.source_channel) if client.source_channel_id else "",
        "registered": _moment(client.created_at),
    }


def _consents(client: Client) -> list[dict]:
    return [
        {
            "purpose": str(row.purpose.label),
            "granted": row.granted,
            "notice_version": row.event.notice_version if row.event else "",
            "at": _moment(row.event.at) if row.event else "",
        }
        for row in portal_consents(client)
    ]


def _released_results(client: Client):
    # Released orders only, and none whose critical value nobody has yet told the person on the
    # telephone: the results pages' own rule (portal.results.critical_waiting).
    return (
        ExamResult.objects.filter(order__client=client, order__release__isnull=False)
        .exclude(critical_waiting(order="order"))
        .select_related("item__price_item", "order__release")
        .order_by("-order__release__released_at", "item_id")[:COPY_ROWS]
    )


def personal_copy(subject: Client) -> dict:
    """The person's information as data: the JSON file, and what the PDF lays out."""
    bookings = (
        Booking.objects.filter(client=subject)
        .select_related("session__department", "session__expert")
        .order_by("-session__date", "-pk")[:COPY_ROWS]
    )
    visits = (
        Visit.objects.filter(client=subject)
        .select_related("department", "expert")
        .order_by("-day", "-pk")[:COPY_ROWS]
    )
    charges = (
        Charge.objects.filter(client=subject)
        .select_related("price_item")
        .order_by("-charged_at", "-pk")[:COPY_ROWS]
    )
    plans = CarePlan.objects.filter(client=subject).order_by("-starts_on", "-pk")[:COPY_ROWS]
    messages = (
        OutboxMessage.objects.filter(client=subject, sent_at__isnull=False)
        .exclude(kind=Kind.VERIFICATION)  # sign-in codes: spent secrets, not information
        .order_by("-sent_at", "-pk")[:COPY_ROWS]
    )
    requests = DataRequest.objects.filter(client=subject).order_by("-created_at", "-pk")
    return {
        "hospital": hospital_name(),
        "made_at": _moment(timezone.now()),
        "record": _record(subject),
        "consents": _consents(subject),
        "bookings": [
            {
                "session": f"{b.session.date:%Y-%m-%d} {b.session.start_time:%H:%M}",
                "department": str(b.session.department),
                "doctor": str(b.session.expert) if b.session.expert_id else "",
                "kind": b.get_kind_display(),
                "status": b.get_status_display(),
            }
            for b in bookings
        ],
        "visits": [
            {
                "day": _day(v.day),
                "type": v.get_visit_type_display(),
                "status": v.get_status_display(),
                "department": str(v.department) if v.department_id else "",
                "doctor": str(v.expert) if v.expert_id else "",
            }
            for v in visits
        ],
        "charges": [
            {
                "at": _moment(c.charged_at),
                "item": str(c.price_item),
                "quantity": c.quantity,
                "amount": str(c.amount),
            }
            for c in charges
        ],
        "exam_results": [
            {
                "released": _moment(r.order.release.released_at),
                "examination": str(r.item.price_item),
                "value": str(r.value_number.normalize())
                if r.value_number is not None
                else r.value_text,
                "flag": r.get_flag_display() if r.flag else "",
                "range": r.rule,
            }
            for r in _released_results(subject)
        ],
        "care_plans": [
            {
                "from": _day(p.starts_on),
                "status": p.get_status_display(),
                **{name: getattr(p, name) for name in PLAN_TEXTS if getattr(p, name)},
            }
            for p in plans
        ],
        "messages": [{"sent": _moment(m.sent_at), "text": m.body} for m in messages],
        "data_requests": [
            {
                "asked": _moment(r.created_at),
                "request": r.get_kind_display(),
                "text": r.text,
                "status": r.get_status_display(),
                "answer": r.answer,
            }
            for r in requests
        ],
    }


def json_export(copy: dict) -> Export:
    content = json.dumps(copy, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    return Export(content, "json", "application/json; charset=utf-8")


# --- Requests to correct or delete --------------------------------------------------------


def data_request_create(*, patient, kind: str, text: str, key: str = "") -> DataRequest:
    """The person asks to correct or delete their information (about `patient.subject`): a
    staff task due DATA_REQUEST_WORKING_DAYS working days from today, once per form key. The
    client managers are told in the application."""

    def create() -> DataRequest:
        today = timezone.localdate()
        due = WorkCalendar.load().add_working_days(today, settings.DATA_REQUEST_WORKING_DAYS)
        with transaction.atomic():
            request = DataRequest.objects.create(
                client=patient.subject,
                asked_by=patient.client,
                kind=kind,
                text=text,
                due_on=due,
                request_key=key,
            )
            DataRequestEvent.objects.create(
                request=request, action=DataRequestEvent.Action.ASKED, status=Status.OPEN
            )
            audit.record(
                audit.Action.CREATE,
                obj=patient.subject,
                fields=["data_request"],
                username=portal_username(patient.client),
            )
        notify_role(
            role=roles.CLIENT_MANAGER,
            text=_("A client asked on the portal to correct or delete their information."),
            url=request.get_absolute_url(),
        )
        return request

    request, _created = create_once(DataRequest, key, create)
    return request


def data_request_decide(*, request: DataRequest, status: str, answer: str, by) -> DataRequest:
    """Decide an open request (done, partly done, refused) with the answer the person reads;
    the person who asked is told by SMS that there is an answer (no content: it is on the
    page). Refused unless the move is in TRANSITIONS."""
    with transaction.atomic():
        # The row's lock: two managers deciding at once, one decision.
        row = DataRequest.objects.select_for_update().get(pk=request.pk)
        if status not in TRANSITIONS[row.status]:
            raise ValidationError(_("This request was already decided."))
        if not answer.strip():
            raise ValidationError(_("Write the answer the person will read."))
        row.status, row.answer = status, answer.strip()
        row.decided_at, row.decided_by = timezone.now(), by
        row.save(update_fields=["status", "answer", "decided_at", "decided_by"])
        DataRequestEvent.objects.create(
            request=row,
            action=DataRequestEvent.Action.DECIDED,
            status=status,
            by=by,
            detail=row.answer,
        )
        audit.record(audit.Action.UPDATE, actor=by, obj=row.client, fields=["data_request"])
        asker = row.asked_by
        if asker.phone:
            with translation.override(settings.LANGUAGE_CODE):
                body = _(
                    "%(signature)sThe hospital has answered your request about your personal "
                    "information. Sign in to the online hospital to read it."
                ) % {"signature": hospital_placeholder_values().get("signature", "")}
            outbox_enqueue(
                idempotency_key=f"portal-data-request:{row.pk}:decided",
                purpose=Purpose.OTHER,
                kind=Kind.SERVICE,
                client=asker,
                body=body,
            )
            DataRequestEvent.objects.create(
                request=row, action=DataRequestEvent.Action.TOLD, status=status, by=by
            )
    return row


def data_requests_for_person(subject: Client) -> list[DataRequest]:
    return list(DataRequest.objects.filter(client=subject).order_by("-created_at", "-pk")[:20])


def data_requests_open_count(subject: Client) -> int:
    return DataRequest.objects.filter(client=subject, status=Status.OPEN).count()


WORKLIST_SIZE = 50


def data_requests_worklist(*, after: str = "", size: int = WORKLIST_SIZE):
    """Open requests, the nearest deadline first, paged by keyset (due_on, id) on the
    portal_datarequest_due_idx index: (rows, the key of the next page or "")."""
    rows = DataRequest.objects.filter(status=Status.OPEN).select_related("client")
    try:
        day, pk = after.split("_")
        rows = rows.filter(
            Q(due_on__gt=datetime.date.fromisoformat(day))
            | Q(due_on=datetime.date.fromisoformat(day), pk__gt=int(pk))
        )
    except ValueError:
        pass
    found = list(rows.order_by("due_on", "pk")[: size + 1])
    more = len(found) > size
    found = found[:size]
    following = f"{found[-1].due_on.isoformat()}_{found[-1].pk}" if more else ""
    return found, following


def data_request_get(token) -> DataRequest:
    from django.http import Http404

    try:
        return DataRequest.objects.select_related("client", "asked_by", "decided_by").get(
            token=token
        )
    except (DataRequest.DoesNotExist, ValidationError, ValueError):
        raise Http404 from None


# --- Dependants: the client page's panel ---------------------------------------------------

DEPENDANT_DESK = frozenset({roles.FRONT_DESK, roles.CLIENT_MANAGER, roles.ADMINISTRATOR})


def dependant_panel(user, client):
    """The client page's panel (clientmgmt.registry.register_record_panel): who may see this
    client's record on the portal, whose this client may see, and the form to record one; for
    the front desk, client managers and administrators only. One query."""
    if not (roles.user_roles(user) & DEPENDANT_DESK):
        return None
    rows = list(
        PortalDependant.objects.filter(
            Q(dependant=client) | Q(holder=client), revoked_at__isnull=True
        )
        .select_related("holder", "dependant")
        .order_by("recorded_at")
    )
    from .data_forms import DependantForm

    return "portal/data/_dependant_panel.html", {
        "client": client,
        "holders": [row for row in rows if row.dependant_id == client.pk],
        "dependants": [row for row in rows if row.holder_id == client.pk],
        "form": DependantForm(),
    }


def dependant_holder_for_phone(phone: str, *, dependant: Client) -> Client:
    """The client who signs in with `phone` (normalised): the one active record holding it,
    other than the dependant (a child registered with the parent's number)."""
    found = list(
        Client.objects.filter(phone=phone, status=Client.Status.ACTIVE)
        .exclude(pk=dependant.pk)
        .order_by("pk")[:2]
    )
    if len(found) != 1:
        raise ValidationError(
            _("No single client holds this mobile number: check it, or sort the records out.")
        )
    return found[0]
