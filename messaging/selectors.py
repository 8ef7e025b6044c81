import datetime

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Substr, TruncDate
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from clientmgmt.consent import MARKETING_SMS, SERVICE_SMS
from clientmgmt.registry import TimelineEntry, timeline_columns
from clientmgmt.selectors import (
    clients_shown_for_user,
    clients_with_consent,
    consent_annotations,
    consent_from_row,
)
from zhongdu import phones
from zhongdu.links import row_link
from zhongdu.pagination import keyset_page

from . import rules
from .models import Kind, OutboxMessage, PhoneOptOut, Purpose, SmsTemplate


def outbox_list(*, filters: dict | None = None):
    """Messages newest first, narrowed by the outbox page's filters; the client joined."""
    filters = filters or {}
    qs = OutboxMessage.objects.select_related("client").order_by("-id")
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("purpose"):
        qs = qs.filter(purpose=filters["purpose"])
    if filters.get("client"):
        qs = qs.filter(client_id=filters["client"])
    if filters.get("date"):
        start = timezone.make_aware(datetime.datetime.combine(filters["date"], datetime.time.min))
        qs = qs.filter(created_at__gte=start, created_at__lt=start + datetime.timedelta(days=1))
    return qs


def outbox_to_act_on():
    """Failures and unknown outcomes: a person decides what happens to them."""
    return (
        OutboxMessage.objects.filter(status__in=["failed", "unknown"])
        .select_related("client")
        .order_by("-id")
    )


def _shown_to(user, messages: list) -> list:
    """Each message as `user` may see it (the discretion rule asked once for the list): with
    `shown_client` (clientmgmt.selectors.ShownClient, or None for a message to no client) and
    `discreet`, True when the message is to a VIP the user does not serve: the page then names
    no client ("VIP client", no link) and withholds the text (seed 保密原则)."""
    with_client = [message for message in messages if message.client_id]
    shown = clients_shown_for_user(user, [message.client for message in with_client])
    by_id = {client.pk: client for client in shown}
    for message in messages:
        message.shown_client = by_id.get(message.client_id)
        message.discreet = message.shown_client is not None and not message.shown_client.whole
        # A one-time sign-in code is never shown: whoever read it could sign in as the person.
        message.code_withheld = message.kind == Kind.VERIFICATION
    return messages


def outbox_page_for_user(user, *, filters: dict | None = None, attention=False, before=None):
    """A keyset page of the outbox (or of the messages needing attention), newest first, each
    message as `user` may see it (_shown_to): a fixed number of queries whatever the page."""
    rows = outbox_to_act_on() if attention else outbox_list(filters=filters)
    page = keyset_page(rows, before=before)
    _shown_to(user, page.items)
    return page


def message_get_for_user(user, pk) -> OutboxMessage:
    """The one way views fetch a message to show: 404 if there is none; the message as `user`
    may see it (_shown_to)."""
    try:
        message = OutboxMessage.objects.select_related("client", "template").get(pk=pk)
    except (OutboxMessage.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    return _shown_to(user, [message])[0]


def outbox_figures(*, days: int = 14):
    """Messages per day and purpose over the last `days` days, by outcome."""
    since = timezone.now() - datetime.timedelta(days=days)
    rows = (
        OutboxMessage.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day", "purpose")
        .annotate(
            total=Count("pk"),
            sent=Count("pk", filter=Q(status__in=["sent", "delivered"])),
            delivered=Count("pk", filter=Q(status="delivered")),
            failed=Count("pk", filter=Q(status="failed")),
            unknown=Count("pk", filter=Q(status="unknown")),
            suppressed=Count("pk", filter=Q(status="suppressed")),
            pending=Count("pk", filter=Q(status__in=["pending", "claimed"])),
        )
        .order_by("-day", "purpose")
    )
    labels = dict(Purpose.choices)
    return [dict(row, purpose_label=labels.get(row["purpose"], row["purpose"])) for row in rows]


def outbox_rows(client):
    """The client's messages, for the client page's timeline (clientmgmt.registry)."""
    return OutboxMessage.objects.filter(client=client).values(
        **timeline_columns(
            kind="sms",
            at=Coalesce("sent_at", "created_at"),
            status="status",
            first="purpose",
            second=Substr("body", 1, 80),
            third="channel",
        )
    )


def outbox_entry(row) -> TimelineEntry:
    purpose, status = row["t_first"], row["t_status"]
    title = (
        _("Voice call: %(purpose)s (%(status)s)")
        if row["t_third"] == "voice"
        else _("SMS: %(purpose)s (%(status)s)")
    )
    return TimelineEntry(
        at=row["t_at"],
        kind="sms",
        title=title
        % {
            "purpose": Purpose(purpose).label if purpose in Purpose.values else purpose,
            "status": OutboxMessage.Status(status).label,
        },
        detail=row["t_second"],
        url=row_link("messaging:message_detail")(row["t_number"]),
        view_name="messaging:message_detail",
    )


def campaign_segment(segment: dict):
    """The clients a campaign's segment describes (consent not yet applied)."""
    from clientmgmt.models import Client

    qs = Client.objects.filter(status=Client.Status.ACTIVE)
    categories = [c for c in segment.get("categories") or [] if c in CATEGORY_FIELDS]
    if categories:
        condition = Q()
        for name in categories:
            condition |= Q(**{name: True})
        qs = qs.filter(condition)
    if segment.get("channel"):
        qs = qs.filter(source_channel_id=segment["channel"])
    if segment.get("department"):
        from clientmgmt.registry import visited_condition

        qs = qs.filter(visited_condition(segment["department"]))
    if segment.get("visited_within_days"):
        since = timezone.now() - datetime.timedelta(days=int(segment["visited_within_days"]))
        qs = qs.filter(last_visit_at__gte=since)
    if segment.get("vip_only"):
        qs = qs.filter(is_vip=True)
    return qs


CATEGORY_FIELDS = {"is_patient", "is_member", "is_exam_client"}


def campaign_recipients(segment: dict, kind: str):
    """The segment after the consent and opt-out rules: who will really receive it."""
    from .models import PhoneOptOut

    qs = clients_with_consent(campaign_segment(segment), SERVICE_SMS).exclude(phone="")
    if kind == "marketing":
        qs = clients_with_consent(qs, MARKETING_SMS)
    return qs.exclude(phone__in=PhoneOptOut.objects.values("phone"))


def campaign_counts(campaign) -> dict:
    counts = dict(campaign.messages.values_list("status").annotate(n=Count("pk")).order_by())
    return {status: counts.get(status, 0) for status in OutboxMessage.Status.values}


# --- What a planned send will do ----------------------------------------------------

BREAKDOWN_KEYS = (
    "now",
    "deferred_cap",
    "deferred_quiet",
    rules.NO_CONSENT,
    rules.OPTED_OUT,
    rules.INVALID_NUMBER,
    "template",
    "route",
    "other",
)
# The route rules (messaging.rules.ROUTES) by the line of the breakdown they count on.
ROUTE_LINES = {
    rules.NOT_APPROVED: "template",
    rules.FREE_TEXT: "template",
    rules.NO_ROUTE: "route",
    rules.CROSS_BORDER: "route",
}


def audience_breakdown(
    clients, *, template_code: str = "", template=None, kind=None, at=None
) -> dict:
    """What sending `template_code` to each of `clients` (a queryset) at `at` will do, without
    sending: will go now; deferred (over today's marketing cap: the next allowed day; quiet
    hours: the morning); or not at all (no marketing consent, opted out or refused SMS, no valid
    mobile, the template not active or not approved by the provider, no SMS route for the
    number, other rules). The outbox's own rules (messaging.rules) decide, in its order: the
    route's rules first (they hold a message as it is written), then the send-time ones, on the
    numbers the messages would go to. Two queries (three with a cross-border route)."""
    from .services import marketing_sent_today  # the services import this module's siblings

    at = at or timezone.now()
    counts = dict.fromkeys(BREAKDOWN_KEYS, 0)
    if template is None or not template.active:
        template = SmsTemplate.objects.filter(code=template_code or "-", active=True).first()
    sent_today = (
        marketing_sent_today(at)
        .filter(client=OuterRef("pk"))
        .order_by()
        .values("client")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = (
        clients.order_by()
        .annotate(
            number_opted_out=Exists(PhoneOptOut.objects.filter(phone=OuterRef("phone"))),
            sent_today=Coalesce(Subquery(sent_today, output_field=IntegerField()), Value(0)),
            **consent_annotations(),
        )
        .only("pk", "phone")
    )
    quiet = rules.quiet_hours_end(at) is not None
    kind = kind or (template.kind if template else None)  # a sender may hold a stricter kind
    # The text as the route rules see it: a link placeholder is a link.
    probe = template.render({"link": "https://link.invalid/"}) if template else ""
    cross_border = None  # read once, when a mainland number meets a foreign route
    for client in rows.iterator(chunk_size=2000):
        if template is None:
            counts["template"] += 1
            continue
        number = phones.classify(client.phone)
        if number.valid:
            route = rules.route_for(number)
            if (
                cross_border is None
                and number.mainland
                and route
                and not rules.ROUTES[route].domestic
            ):
                cross_border = rules.cross_border_allowed()
            refusal = rules.route_refusal(
                number=number,
                route=route,
                body=probe,
                template=template,
                cross_border=bool(cross_border),
            )
            if refusal:
                counts[ROUTE_LINES.get(refusal, "other")] += 1
                continue
        reason = rules.block_reason(
            to=client.phone,
            consent=consent_from_row(client),
            kind=kind,
            body=template.body,
            opted_out=client.number_opted_out,
            now=at,
        )
        if reason == rules.REFUSED_SMS:
            reason = rules.OPTED_OUT  # the client said no to SMS: an opt-out too
        if reason:
            counts[reason if reason in counts else "other"] += 1
        elif rules.over_cap(kind=kind, has_client=True, sent_today=client.sent_today):
            counts["deferred_cap"] += 1
        elif quiet:
            counts["deferred_quiet"] += 1
        else:
            counts["now"] += 1
    counts["total"] = sum(counts.values())
    # A planned send: "now" is the time it is planned for.
    counts["scheduled"] = at > timezone.now() + datetime.timedelta(minutes=1)
    return counts


SUPPRESSED_LABELS = {**rules.BLOCK_REASONS, rules.REFUSED_SMS: rules.BLOCK_REASONS[rules.OPTED_OUT]}


def outbox_outcomes(messages) -> dict:
    """Final outcomes of a send (a queryset of its outbox rows), not attempts: delivered, sent
    (no delivery report yet), waiting (pending, deferred or sending), failed, unknown, cancelled,
    and the suppressed ones by reason (a list of (label, count)). One query."""
    rows = messages.order_by().values_list("status", "error_code").annotate(n=Count("pk"))
    outcomes = dict.fromkeys(
        ("delivered", "sent", "waiting", "failed", "unknown", "cancelled", "suppressed"), 0
    )
    by_reason: dict[str, int] = {}
    for status, code, n in rows:
        if status in ("pending", "claimed"):
            outcomes["waiting"] += n
        elif status == "suppressed":
            outcomes["suppressed"] += n
            label = str(SUPPRESSED_LABELS.get(code, _("Other rules")))
            by_reason[label] = by_reason.get(label, 0) + n
        else:
            outcomes[status] += n
    outcomes["suppressed_by_reason"] = sorted(by_reason.items(), key=lambda item: -item[1])
    return outcomes
