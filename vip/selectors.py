"""Reads of VIP: the roster, a VIP's standing and history, candidates, enterprises, spend, and
the discretion rule (seed: 保密原则) the client record consults through its registry."""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.http import Http404
from django.utils import timezone

from clientmgmt.models import Client
from guide.models import Charge
from zhongdu import roles
from zhongdu.models import AuditEvent

from .models import Enterprise, VipCandidate, VipEvent, VipPolicy, VipStanding

# Who sees a VIP's whole record: the VIP managers, managers and administrators, and the staff
# assigned to the VIP (their escort, the handler of one of their open return-visit calls).
VIP_OFFICERS = frozenset({roles.VIP_MANAGER, roles.MANAGER, roles.ADMINISTRATOR})
ROSTER_LIMIT = 100


def is_vip_officer(user) -> bool:
    return bool(roles.user_roles(user) & VIP_OFFICERS)


# A return-visit call makes its handler "assigned to the VIP" from this many days before it is
# due: a call planned for next year opens nothing today.
CALL_ASSIGNMENT_DAYS = 7


def _escorted(user, client_ids):
    return VipStanding.objects.filter(client_id__in=client_ids, escort=user)


def _calls_in_hand(user, client_ids):
    from followup.models import FollowUpCall

    horizon = timezone.localdate() + datetime.timedelta(days=CALL_ASSIGNMENT_DAYS)
    return FollowUpCall.objects.filter(
        client_id__in=client_ids,
        assigned_to=user,
        status=FollowUpCall.Status.OPEN,
        due_on__lte=horizon,
    )


def assigned_to_vip(user, client_id) -> bool:
    """The VIP's escort, or the handler of one of their open calls due within
    CALL_ASSIGNMENT_DAYS (followup.services refuses to let anyone else hand such a call to
    themselves)."""
    return _escorted(user, [client_id]).exists() or _calls_in_hand(user, [client_id]).exists()


def may_see_whole_record(user, client) -> bool:
    """The discretion rule: any record but a VIP's in full; a VIP's only to the VIP officers and
    the staff assigned to them (clientmgmt.registry record guard)."""
    if not client.is_vip or is_vip_officer(user):
        return True
    return assigned_to_vip(user, client.pk)


def whole_record_ids(user, clients) -> set[int]:
    """may_see_whole_record for a list of clients: two queries at most, whatever its length."""
    ids = {client.pk for client in clients}
    vips = [client.pk for client in clients if client.is_vip]
    if not vips or is_vip_officer(user):
        return ids
    assigned = set(_escorted(user, vips).values_list("client_id", flat=True))
    assigned |= set(_calls_in_hand(user, vips).values_list("client_id", flat=True))
    return (ids - set(vips)) | assigned


def standing_get_for_user(user, client_id) -> VipStanding:
    try:
        standing = VipStanding.objects.select_related(
            "client", "enterprise", "policy", "escort"
        ).get(client_id=client_id)
    except (VipStanding.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not may_see_whole_record(user, standing.client):
        raise PermissionDenied
    return standing


def roster(
    *,
    kind: str = "",
    tier: str = "",
    status: str = VipStanding.Status.ACTIVE,
    since=None,
    expiring_days: int | None = None,
    min_spend=None,
):
    qs = VipStanding.objects.select_related("client", "enterprise", "escort").only(
        "id",
        "kind",
        "tier",
        "status",
        "since",
        "valid_until",
        "spend",
        "client__id",
        "client__name",
        "client__phone",
        "client__is_vip",
        "enterprise__id",
        "enterprise__name",
        "escort__id",
        "escort__username",
        "escort__first_name",
        "escort__last_name",
    )
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if tier:
        qs = qs.filter(tier=tier)
    if since:
        qs = qs.filter(since__gte=since)
    if expiring_days is not None:
        today = timezone.localdate()
        qs = qs.filter(valid_until__range=(today, today + datetime.timedelta(days=expiring_days)))
    if min_spend is not None:
        qs = qs.filter(spend__gte=min_spend)
    return qs.order_by("-id")


def candidates_pending():
    return (
        VipCandidate.objects.filter(status=VipCandidate.Status.PENDING)
        .select_related("client", "enterprise", "policy", "nominated_by")
        .order_by("created_at", "pk")
    )


def client_history(client_id):
    return VipEvent.objects.filter(client_id=client_id).select_related("actor", "policy")


def enterprise_history(enterprise):
    return VipEvent.objects.filter(enterprise=enterprise).select_related("actor", "policy")


def enterprises():
    return Enterprise.objects.annotate(employees=Count("members")).order_by("name")


def cost_lines(*, client_id: int, since=None, until=None):
    """A VIP's charges with their item and visit, newest first (the cost record)."""
    qs = Charge.objects.filter(client_id=client_id).select_related(
        "price_item", "visit__department"
    )
    if since is not None:
        qs = qs.filter(charged_at__gte=since)
    if until is not None:
        qs = qs.filter(charged_at__lt=until)
    return qs.order_by("-charged_at", "-pk")


def cost_summary(*, client_id: int, since=None, until=None) -> dict:
    """Spend, list value and discount over a period, and by month and by item (three queries)."""
    from django.db.models import F
    from django.db.models.functions import TruncMonth

    lines = cost_lines(client_id=client_id, since=since, until=until).filter(voided_at__isnull=True)
    totals = lines.aggregate(spend=Sum("amount"), listed=Sum(F("unit_price") * F("quantity")))
    spend = totals["spend"] or Decimal("0.00")
    listed = totals["listed"] or Decimal("0.00")
    by_month = list(
        lines.annotate(month=TruncMonth("charged_at"))
        .values("month")
        .annotate(total=Sum("amount"))
        .order_by("month")
    )
    by_item = list(
        lines.values("price_item__code", "price_item__name")
        .annotate(total=Sum("amount"), count=Sum("quantity"))
        .order_by("-total")
    )
    return {
        "spend": spend,
        "listed": listed,
        "discount": max(listed - spend, Decimal("0.00")),
        "by_month": by_month,
        "by_item": by_item,
    }


# What the access log reads: the client record itself (opened, revealed, changed) and the VIP
# cost record exported from /vip/<id>/costs/ (vip.views.vip_costs_export), both keyed by the
# client's id; and the other pages that show the client's details, keyed by their own row's id
# (a return-visit call, a care plan, a complaint, a visit, an exam order: each page audits its
# opening; the patient's own looks on the portal too).
ACCESS_LOG_TYPES = ("clientmgmt.client", "vip.costs")


def _client_rows():
    """(audit object type, model) of the pages about one of a client's rows."""
    from complaints.models import Complaint
    from followup.models import CarePlan, FollowUpCall
    from guide.models import ExamOrder, Visit

    return [
        ("followup.followupcall", FollowUpCall),
        ("followup.careplan", CarePlan),
        ("complaints.complaint", Complaint),
        ("guide.visit", Visit),
        ("guide.examorder", ExamOrder),
    ]


def record_access_log(client_id: int, limit: int = 200):
    """Who opened, revealed, changed or exported this client's record, or opened a page about
    one of their calls, care plans, complaints or visits (the audit trail). The rows' ids are
    read first (a VIP has tens of them), so the audit table is read through its
    (object_type, object_id) index."""
    wanted = Q(object_type__in=ACCESS_LOG_TYPES, object_id=str(client_id))
    for object_type, model in _client_rows():
        rows = model.objects.filter(client_id=client_id).values_list("pk", flat=True)
        if ids := [str(pk) for pk in rows]:
            wanted |= Q(object_type=object_type, object_id__in=ids)
    return (
        AuditEvent.objects.filter(wanted).select_related("actor").order_by("-occurred_at")[:limit]
    )


def vips_without_recent_call(*, policy: VipPolicy, today=None):
    """Active VIPs with no return-visit call made or planned in the policy's interval: the
    closer cadence the seed asks for (定期对VIP客户进行回访)."""
    from followup.models import FollowUpCall

    today = today or timezone.localdate()
    since = today - datetime.timedelta(days=policy.followup_interval_days)
    recent = FollowUpCall.objects.filter(
        Q(status=FollowUpCall.Status.OPEN) | Q(created_at__date__gte=since)
    ).values("client_id")
    return Client.objects.filter(is_vip=True, status=Client.Status.ACTIVE).exclude(pk__in=recent)


def named_escort(client):
    """The escort named for an active VIP, if they can still work (guide.registry's default
    escort of a new visit). No query for anyone who is not a VIP: most arrivals."""
    if not client.is_vip:
        return None
    standing = (
        VipStanding.objects.filter(
            client_id=client.pk,
            status=VipStanding.Status.ACTIVE,
            escort__isnull=False,
            escort__is_active=True,
        )
        .select_related("escort")
        .first()
    )
    return standing.escort if standing else None


def named_escorts(client_ids) -> dict:
    """named_escort for a list of clients: {client id: escort} in one query (the front desk's
    board names each VIP's escort on its row); nothing asked for an empty list."""
    client_ids = list(client_ids)
    if not client_ids:
        return {}
    standings = VipStanding.objects.filter(
        client_id__in=client_ids,
        status=VipStanding.Status.ACTIVE,
        escort__isnull=False,
        escort__is_active=True,
    ).select_related("escort")
    return {standing.client_id: standing.escort for standing in standings}


def candidate_get(pk) -> VipCandidate:
    try:
        return VipCandidate.objects.select_related("client", "enterprise").get(pk=pk)
    except (VipCandidate.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def policy_versions():
    return VipPolicy.objects.select_related("created_by").order_by("-pk")


def enterprise_get(pk) -> Enterprise:
    try:
        return Enterprise.objects.select_related("policy").get(pk=pk)
    except (Enterprise.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def enterprise_members(enterprise, *, policy: VipPolicy, today=None):
    """The enterprise's employees with their records, VIP standing and spend in the policy's
    window, by name (one query: the spend is a filtered SUM over their charges,
    served by the charges' (client, charged_at) index)."""
    start = policy.window_start(today or timezone.localdate())
    return (
        enterprise.members.select_related("client", "client__vip_standing")
        .annotate(
            spend=Sum(
                "client__charges__amount",
                filter=Q(
                    client__charges__voided_at__isnull=True,
                    client__charges__charged_at__gte=start,
                ),
            )
        )
        .order_by("client__name", "pk")
    )


def enterprise_spend_total(enterprise, *, policy: VipPolicy, today=None) -> Decimal:
    """The employees' spend in the policy's window: what the qualification compares."""
    start = policy.window_start(today or timezone.localdate())
    total = Charge.objects.filter(
        client__enterprise_memberships__enterprise=enterprise,
        voided_at__isnull=True,
        charged_at__gte=start,
    ).aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0.00")


def member_client_ids(enterprise, clients) -> set[int]:
    """Which of these clients are already the enterprise's employees (one query)."""
    return set(
        enterprise.members.filter(client__in=[c.pk for c in clients]).values_list(
            "client_id", flat=True
        )
    )
