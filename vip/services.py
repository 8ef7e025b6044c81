"""Writes of VIP: policy versions, the nightly qualification, decisions on candidates, manual
nominations (a reason and a second person's approval), escorts and enterprises.

The nightly qualification (`qualification_run`) reads spend with one GROUP BY over the window's
charges (guide.Charge, indexed on charged_at), keeps only those at or over the threshold
(HAVING), and writes in bulk: it touches the rows that change, not every client. It is
idempotent: a second run the same day changes nothing (a pending candidacy is unique per client,
renewals set the same date, lapses only act on standings past their date).
"""

import datetime
import logging
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from clientmgmt.models import Client
from clientmgmt.services import client_set_vip
from consult.services import booking_policy_set_vip_share
from guide.models import Charge
from zhongdu import audit, phones, roles

from .models import (
    Enterprise,
    EnterpriseMember,
    Tier,
    VipCandidate,
    VipEvent,
    VipPolicy,
    VipStanding,
)

logger = logging.getLogger(__name__)
Standing = VipStanding
BATCH = 1000
# A nominated VIP holds the standing this long before it must be nominated again.
NOMINATION_DAYS = 365


def _today(today=None) -> datetime.date:
    return today or timezone.localdate()


# --- Policy -------------------------------------------------------------------------


def policy_add(*, by, note: str = "", **fields) -> VipPolicy:
    """A new policy version (the old ones stay). The VIP-held share of sessions goes to the
    consultation desk's booking rules at once."""
    current = VipPolicy.current()
    values = {
        name: getattr(current, name)
        for name in (
            "personal_annual_spend",
            "gold_spend",
            "platinum_spend",
            "enterprise_annual_spend",
            "enterprise_min_employees",
            "enterprise_min_revenue",
            "window",
            "auto_grant",
            "grace_days",
            "vip_share_percent",
            "followup_interval_days",
        )
    }
    unknown = set(fields) - set(values)
    if unknown:
        raise ValueError(f"not policy fields: {sorted(unknown)}")
    values.update(fields)
    if values["gold_spend"] < values["personal_annual_spend"] or (
        values["platinum_spend"] < values["gold_spend"]
    ):
        raise ValidationError(_("The tiers must rise: VIP ≤ gold ≤ platinum."))
    if not 0 <= values["vip_share_percent"] <= 100:
        raise ValidationError(_("The held share is a percentage from 0 to 100."))
    with transaction.atomic():
        policy = VipPolicy.objects.create(created_by=by, note=note[:200], **values)
        booking_policy_set_vip_share(percent=policy.vip_share_percent)
        audit.record(audit.Action.CREATE, actor=by, obj=policy)
    return policy


# --- Spend --------------------------------------------------------------------------


def _charges_since(start):
    return Charge.objects.filter(voided_at__isnull=True, charged_at__gte=start)


def client_spend(*, client_id: int, policy: VipPolicy, today=None) -> Decimal:
    start = policy.window_start(_today(today))
    total = _charges_since(start).filter(client_id=client_id).aggregate(t=Sum("amount"))["t"]
    return total or Decimal("0.00")


def qualifying_clients(*, policy: VipPolicy, today=None) -> dict[int, Decimal]:
    """{client id: spend} for every client at or over the personal threshold (one query)."""
    start = policy.window_start(_today(today))
    rows = (
        _charges_since(start)
        .values("client_id")
        .annotate(total=Sum("amount"))
        .filter(total__gte=policy.personal_annual_spend)
        .order_by()
        .values_list("client_id", "total")
    )
    return dict(rows)


def enterprise_spend(*, policy: VipPolicy, today=None) -> dict[int, Decimal]:
    """{enterprise id: spend of its employees} for active enterprises (one query)."""
    start = policy.window_start(_today(today))
    rows = (
        EnterpriseMember.objects.filter(enterprise__active=True)
        .values("enterprise_id")
        .annotate(
            total=Sum(
                "client__charges__amount",
                filter=Q(
                    client__charges__voided_at__isnull=True,
                    client__charges__charged_at__gte=start,
                ),
            )
        )
        .order_by()
        .values_list("enterprise_id", "total")
    )
    return {pk: total or Decimal("0.00") for pk, total in rows}


def enterprise_qualifies(enterprise: Enterprise, spend: Decimal, policy: VipPolicy, today) -> bool:
    """The seed's enterprise rule: an agreement and the annual spend (1), and enough employees
    or revenue (2)."""
    return (
        enterprise.agreement_active(today)
        and spend >= policy.enterprise_annual_spend
        and (
            enterprise.employee_count >= policy.enterprise_min_employees
            or enterprise.annual_revenue >= policy.enterprise_min_revenue
        )
    )


# --- Granting, renewing, lapsing ----------------------------------------------------


def _event(action, *, client_id=None, enterprise=None, by=None, policy=None, spend=None, detail=""):
    return VipEvent(
        client_id=client_id,
        enterprise=enterprise,
        action=action,
        by_rule=by is None,
        actor=by,
        policy=policy,
        spend=spend,
        detail=str(detail)[:200],
    )


def grant(
    *,
    client_id: int,
    kind: str,
    policy: VipPolicy,
    by=None,
    spend: Decimal = Decimal("0.00"),
    enterprise=None,
    valid_until: datetime.date | None = None,
    detail: str = "",
    today=None,
) -> VipStanding:
    """Make a client a VIP (or renew their standing): the standing row, Client.is_vip, and the
    history. By rule when `by` is None."""
    today = _today(today)
    valid_until = valid_until or today + datetime.timedelta(days=policy.grace_days)
    tier = policy.tier_for(spend) if kind == Standing.Kind.PERSONAL else Tier.STANDARD
    with transaction.atomic():
        standing = VipStanding.objects.select_for_update().filter(client_id=client_id).first()
        if standing is not None and standing.status == Standing.Status.ACTIVE:
            action = VipEvent.Action.RENEWED
        else:
            action = VipEvent.Action.GRANTED
        if standing is None:
            standing = VipStanding(client_id=client_id, since=today)
        elif standing.status != Standing.Status.ACTIVE:
            standing.since = today
        # A personal standing outranks one through an employer; keep the better kind.
        if not (
            standing.status == Standing.Status.ACTIVE
            and standing.kind == Standing.Kind.PERSONAL
            and kind == Standing.Kind.ENTERPRISE
        ):
            standing.kind = kind
            standing.enterprise = enterprise
        standing.status = Standing.Status.ACTIVE
        standing.valid_until = max(valid_until, standing.valid_until or valid_until)
        standing.spend = spend
        standing.tier = tier
        standing.policy = policy
        standing.save()
        client_set_vip(client_id=client_id, is_vip=True)
        _event(action, client_id=client_id, by=by, policy=policy, spend=spend, detail=detail).save()
    return standing


def _lapse(standing: VipStanding, *, policy, by=None, action=VipEvent.Action.LAPSED, detail=""):
    standing.status = (
        Standing.Status.REVOKED if action == VipEvent.Action.REVOKED else Standing.Status.LAPSED
    )
    standing.save(update_fields=["status", "updated_at"])
    client_set_vip(client_id=standing.client_id, is_vip=False)
    _event(action, client_id=standing.client_id, by=by, policy=policy, detail=detail).save()


def revoke(*, standing: VipStanding, by, reason: str) -> VipStanding:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason."))
    with transaction.atomic():
        locked = VipStanding.objects.select_for_update().get(pk=standing.pk)
        if locked.status != Standing.Status.ACTIVE:
            raise ValidationError(_("This client is not an active VIP."))
        _lapse(
            locked, policy=VipPolicy.current(), by=by, action=VipEvent.Action.REVOKED, detail=reason
        )
        audit.record(audit.Action.UPDATE, actor=by, obj=locked, fields=["status"], reason=reason)
    standing.refresh_from_db()
    return standing


def qualification_run(*, today=None, notify=None) -> dict:
    """The nightly qualification. Returns counts: granted, renewed, candidates, lapsed,
    enterprises. `notify(text)` tells the VIP managers about lapses (zhongdu notifications).

    Writes in bulk, BATCH clients a transaction: thousands of VIPs are granted or renewed with a
    handful of statements each batch, not a few per client."""
    today = _today(today)
    policy = VipPolicy.current()
    counts = {"granted": 0, "renewed": 0, "candidates": 0, "lapsed": 0, "enterprises": 0}
    qualifying = qualifying_clients(policy=policy, today=today)
    active = {
        client_id: (valid_until, tier, kind)
        for client_id, valid_until, tier, kind in VipStanding.objects.filter(
            status=Standing.Status.ACTIVE
        ).values_list("client_id", "valid_until", "tier", "kind")
    }
    renew_until = today + datetime.timedelta(days=policy.grace_days)
    renewals, newcomers = {}, {}
    for client_id, spend in qualifying.items():
        if client_id in active:
            valid_until, tier, kind = active[client_id]
            new_tier = policy.tier_for(spend) if kind == Standing.Kind.PERSONAL else tier
            if valid_until is None or valid_until < renew_until or new_tier != tier:
                renewals[client_id] = (spend, new_tier, tier)
        else:
            newcomers[client_id] = spend
    for batch in _chunks(list(renewals.items())):
        _renew_many(batch, policy=policy, until=renew_until)
    counts["renewed"] = len(renewals)
    if policy.auto_grant:
        for batch in _chunks(list(newcomers.items())):
            _grant_many(dict(batch), policy=policy, today=today, until=renew_until)
        counts["granted"] = len(newcomers)
    else:
        pending = set(
            VipCandidate.objects.filter(
                status=VipCandidate.Status.PENDING, client__isnull=False
            ).values_list("client_id", flat=True)
        )
        for client_id, spend in newcomers.items():
            if client_id not in pending:
                counts["candidates"] += _list_candidate(
                    kind=VipCandidate.Kind.PERSONAL, client_id=client_id, spend=spend, policy=policy
                )
    counts["enterprises"] = _enterprises(policy=policy, today=today, counts=counts)
    while batch := list(
        VipStanding.objects.filter(status=Standing.Status.ACTIVE, valid_until__lt=today)
        .order_by("pk")
        .values_list("pk", "client_id")[:BATCH]
    ):
        _lapse_many(batch, policy=policy)
        counts["lapsed"] += len(batch)
    if counts["lapsed"] and notify is not None:
        notify(
            _("%(count)s VIPs lapsed tonight: below the threshold after the grace period.")
            % {"count": counts["lapsed"]}
        )
    return counts


def _chunks(items, size=BATCH):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _renew_many(batch, *, policy, until) -> None:
    """Renew a batch of VIPs in place: a new date, their spend and tier; an event only where the
    tier moves (a nightly renewal is not news)."""
    ids = [client_id for client_id, _values in batch]
    with transaction.atomic():
        standings = {s.client_id: s for s in VipStanding.objects.filter(client_id__in=ids)}
        events = []
        for client_id, (spend, new_tier, old_tier) in batch:
            standing = standings[client_id]
            standing.valid_until = max(until, standing.valid_until or until)
            standing.spend, standing.tier, standing.policy = spend, new_tier, policy
            if new_tier != old_tier:
                events.append(
                    _event(
                        VipEvent.Action.TIER,
                        client_id=client_id,
                        policy=policy,
                        spend=spend,
                        detail=new_tier,
                    )
                )
        VipStanding.objects.bulk_update(
            standings.values(), ["valid_until", "spend", "tier", "policy"], batch_size=BATCH
        )
        VipEvent.objects.bulk_create(events)


def _grant_many(spends: dict, *, policy, today, until) -> None:
    """Grant a batch of new personal VIPs by rule: their standings (new, or a lapsed one made
    active again), the badge on their records and their history, in one transaction."""
    with transaction.atomic():
        old = {s.client_id: s for s in VipStanding.objects.filter(client_id__in=list(spends))}
        fresh = []
        for client_id, spend in spends.items():
            standing = old.get(client_id) or VipStanding(client_id=client_id)
            standing.kind, standing.enterprise = Standing.Kind.PERSONAL, None
            standing.status, standing.since = Standing.Status.ACTIVE, today
            standing.valid_until, standing.spend = until, spend
            standing.tier, standing.policy = policy.tier_for(spend), policy
            if client_id not in old:
                fresh.append(standing)
        VipStanding.objects.bulk_create(fresh, batch_size=BATCH)
        VipStanding.objects.bulk_update(
            old.values(),
            ["kind", "enterprise", "status", "since", "valid_until", "spend", "tier", "policy"],
            batch_size=BATCH,
        )
        Client.objects.filter(pk__in=list(spends), is_vip=False).update(is_vip=True)
        VipEvent.objects.bulk_create(
            [
                _event(VipEvent.Action.GRANTED, client_id=client_id, policy=policy, spend=spend)
                for client_id, spend in spends.items()
            ]
        )


def _lapse_many(batch, *, policy) -> None:
    ids = [pk for pk, _client in batch]
    clients = [client_id for _pk, client_id in batch]
    with transaction.atomic():
        VipStanding.objects.filter(pk__in=ids, status=Standing.Status.ACTIVE).update(
            status=Standing.Status.LAPSED, updated_at=timezone.now()
        )
        Client.objects.filter(pk__in=clients, is_vip=True).update(is_vip=False)
        VipEvent.objects.bulk_create(
            [
                _event(
                    VipEvent.Action.LAPSED,
                    client_id=client_id,
                    policy=policy,
                    detail=_("Below the threshold after the grace period"),
                )
                for client_id in clients
            ]
        )


def _list_candidate(*, kind, policy, spend, client_id=None, enterprise=None) -> int:
    try:
        with transaction.atomic():
            VipCandidate.objects.create(
                kind=kind, client_id=client_id, enterprise=enterprise, spend=spend, policy=policy
            )
            _event(
                VipEvent.Action.CANDIDATE,
                client_id=client_id,
                enterprise=enterprise,
                policy=policy,
                spend=spend,
            ).save()
    except IntegrityError:
        return 0  # already waiting for a decision
    return 1


def _enterprises(*, policy, today, counts) -> int:
    spends = enterprise_spend(policy=policy, today=today)
    qualified = 0
    for enterprise in Enterprise.objects.filter(active=True):
        spend = spends.get(enterprise.pk, Decimal("0.00"))
        if not enterprise_qualifies(enterprise, spend, policy, today):
            continue
        qualified += 1
        if enterprise.is_vip or policy.auto_grant:
            enterprise_grant(enterprise=enterprise, policy=policy, spend=spend, today=today)
        elif not VipCandidate.objects.filter(
            enterprise=enterprise, status=VipCandidate.Status.PENDING
        ).exists():
            counts["candidates"] += _list_candidate(
                kind=VipCandidate.Kind.ENTERPRISE, enterprise=enterprise, spend=spend, policy=policy
            )
    # Enterprises past their date lapse; their employees' standings through them follow.
    for enterprise in Enterprise.objects.filter(is_vip=True, vip_until__lt=today):
        with transaction.atomic():
            Enterprise.objects.filter(pk=enterprise.pk).update(is_vip=False)
            _event(VipEvent.Action.LAPSED, enterprise=enterprise, policy=policy).save()
    return qualified


def enterprise_grant(*, enterprise: Enterprise, policy: VipPolicy, spend, today=None, by=None):
    """An enterprise VIP (renewed while it qualifies) and its employees' standings through it."""
    today = _today(today)
    until = today + datetime.timedelta(days=policy.grace_days)
    with transaction.atomic():
        was_vip = enterprise.is_vip
        Enterprise.objects.filter(pk=enterprise.pk).update(
            is_vip=True, vip_until=until, policy=policy
        )
        if not was_vip:
            _event(
                VipEvent.Action.GRANTED, enterprise=enterprise, by=by, policy=policy, spend=spend
            ).save()
        for client_id in enterprise.members.values_list("client_id", flat=True):
            grant(
                client_id=client_id,
                kind=Standing.Kind.ENTERPRISE,
                policy=policy,
                enterprise=enterprise,
                valid_until=until,
                by=by,
                today=today,
                detail=enterprise.name,
            )
    enterprise.refresh_from_db()
    return enterprise


# --- Decisions and nominations ------------------------------------------------------


def nominate(*, client, by, reason: str) -> VipCandidate:
    """A manual nomination (social standing, long loyalty): a reason, and approval by someone
    else."""
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ValidationError(_("Say why this client should be a VIP."))
    if client.status != Client.Status.ACTIVE:
        raise ValidationError(_("Only an active record can be nominated."))
    if client.is_vip:
        raise ValidationError(_("This client is already a VIP."))
    policy = VipPolicy.current()
    try:
        with transaction.atomic():
            candidate = VipCandidate.objects.create(
                kind=VipCandidate.Kind.NOMINATION,
                client=client,
                policy=policy,
                reason=reason,
                nominated_by=by,
            )
            _event(
                VipEvent.Action.NOMINATED, client_id=client.pk, by=by, policy=policy, detail=reason
            ).save()
    except IntegrityError:
        raise ValidationError(_("This client is already waiting for a decision.")) from None
    return candidate


def candidate_decide(*, candidate: VipCandidate, by, approve: bool, reason: str = "", today=None):
    """Approve or reject a candidate. A nomination is decided by someone other than its
    nominator; a rejection needs a reason."""
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ValidationError(_("Give the reason for the rejection."))
    if not (roles.user_roles(by) & {roles.VIP_MANAGER, roles.MANAGER, roles.ADMINISTRATOR}):
        raise ValidationError(_("Only VIP managers and managers decide on VIPs."))
    today = _today(today)
    with transaction.atomic():
        locked = VipCandidate.objects.select_for_update().get(pk=candidate.pk)
        if locked.status != VipCandidate.Status.PENDING:
            raise ValidationError(_("This candidate has already been decided."))
        if locked.kind == VipCandidate.Kind.NOMINATION and locked.nominated_by_id == by.pk:
            raise ValidationError(_("A nomination is approved by a second person."))
        locked.status = VipCandidate.Status.APPROVED if approve else VipCandidate.Status.REJECTED
        locked.decided_by = by
        locked.decided_at = timezone.now()
        locked.decision_reason = reason[:200]
        locked.save()
        policy = VipPolicy.current()
        if not approve:
            _event(
                VipEvent.Action.REJECTED,
                client_id=locked.client_id,
                enterprise=locked.enterprise,
                by=by,
                policy=policy,
                detail=reason,
            ).save()
        elif locked.enterprise_id:
            enterprise_grant(
                enterprise=locked.enterprise, policy=policy, spend=locked.spend, today=today, by=by
            )
        else:
            nominated = locked.kind == VipCandidate.Kind.NOMINATION
            grant(
                client_id=locked.client_id,
                kind=Standing.Kind.NOMINATED if nominated else Standing.Kind.PERSONAL,
                policy=policy,
                by=by,
                spend=locked.spend,
                valid_until=today + datetime.timedelta(days=NOMINATION_DAYS) if nominated else None,
                detail=locked.reason if nominated else "",
                today=today,
            )
        audit.record(audit.Action.UPDATE, actor=by, obj=locked, fields=["status"], reason=reason)
    candidate.refresh_from_db()
    return candidate


def escort_assign(*, standing: VipStanding, escort, by) -> VipStanding:
    """Name the VIP's escort (专人引导): a front-desk or VIP-manager user."""
    if escort is not None and not (
        roles.user_roles(escort) & {roles.FRONT_DESK, roles.VIP_MANAGER}
    ):
        raise ValidationError(_("An escort is someone of the front desk or a VIP manager."))
    with transaction.atomic():
        VipStanding.objects.filter(pk=standing.pk).update(escort=escort)
        who = (escort.get_full_name() or escort.get_username()) if escort else "—"
        _event(VipEvent.Action.ESCORT, client_id=standing.client_id, by=by, detail=who).save()
    standing.refresh_from_db()
    return standing


# --- Enterprises --------------------------------------------------------------------


def enterprise_add_member(*, enterprise: Enterprise, client, by) -> EnterpriseMember:
    if client.status == Client.Status.MERGED:
        raise ValidationError(
            _("This record was merged into another one; use the surviving record.")
        )
    try:
        with transaction.atomic():
            member = EnterpriseMember.objects.create(
                enterprise=enterprise, client=client, added_by=by
            )
            if enterprise.is_vip:
                grant(
                    client_id=client.pk,
                    kind=Standing.Kind.ENTERPRISE,
                    policy=VipPolicy.current(),
                    enterprise=enterprise,
                    valid_until=enterprise.vip_until,
                    by=by,
                    detail=enterprise.name,
                )
    except IntegrityError:
        raise ValidationError(_("This client is already an employee of this enterprise.")) from None
    return member


ENTERPRISE_FIELDS = (
    "name",
    "agreement_number",
    "agreement_start",
    "agreement_end",
    "terms",
    "employee_count",
    "annual_revenue",
    "contact_name",
    "contact_phone",
    "active",
)


def _enterprise_apply(enterprise: Enterprise, data: dict) -> list[str]:
    """Set the account's fields from cleaned data, check them, return the names changed."""
    changed = []
    for name in ENTERPRISE_FIELDS:
        if name in data and getattr(enterprise, name) != data[name]:
            setattr(enterprise, name, data[name])
            changed.append(name)
    enterprise.name = " ".join((enterprise.name or "").split())
    if not enterprise.name:
        raise ValidationError({"name": _("Enter the enterprise's name.")})
    try:
        enterprise.contact_phone = phones.normalise(enterprise.contact_phone)
    except ValidationError as exc:
        raise ValidationError({"contact_phone": exc.messages}) from None
    start, end = enterprise.agreement_start, enterprise.agreement_end
    if start and end and end < start:
        raise ValidationError({"agreement_end": _("The agreement cannot end before it starts.")})
    if Enterprise.objects.filter(name=enterprise.name).exclude(pk=enterprise.pk).exists():
        raise ValidationError({"name": _("An enterprise with this name already exists.")})
    return changed


def _enterprise_save(enterprise: Enterprise) -> None:
    try:
        with transaction.atomic():
            enterprise.save()
    except IntegrityError:
        # Two people saving the same name at once: the unique constraint decides.
        raise ValidationError({"name": _("An enterprise with this name already exists.")}) from None


def enterprise_create(*, data: dict, by, request=None) -> Enterprise:
    enterprise = Enterprise()
    fields = _enterprise_apply(enterprise, data)
    with transaction.atomic():
        _enterprise_save(enterprise)
        audit.record(audit.Action.CREATE, actor=by, obj=enterprise, fields=fields, request=request)
    return enterprise


def enterprise_update(*, enterprise: Enterprise, data: dict, by, request=None) -> Enterprise:
    """The account's basics. Its VIP standing is the qualification's, never edited here."""
    fields = _enterprise_apply(enterprise, data)
    if not fields:
        return enterprise
    with transaction.atomic():
        _enterprise_save(enterprise)
        audit.record(audit.Action.UPDATE, actor=by, obj=enterprise, fields=fields, request=request)
    return enterprise


def enterprise_remove_member(*, member: EnterpriseMember, by, request=None) -> None:
    """Take a client off an enterprise's employees. A VIP standing held only through this
    enterprise ends with them: it moves to another VIP enterprise the client works for, or else
    lapses, with an event. A personal or nominated standing is the client's own and stays.

    Locks the member row and the standing, so a removal racing the nightly renewal either runs
    before it (the renewal no longer finds the employee) or after it (and lapses the renewed
    standing)."""
    with transaction.atomic():
        try:
            member = (
                EnterpriseMember.objects.select_for_update()
                .select_related("enterprise")
                .get(pk=member.pk)
            )
        except EnterpriseMember.DoesNotExist:
            raise ValidationError(_("This employee has already been removed.")) from None
        enterprise, client_id = member.enterprise, member.client_id
        audit.record(
            audit.Action.DELETE,
            actor=by,
            obj=member,
            object_repr=audit.note(
                "vip.member_removed", enterprise=enterprise.name[:100], client=client_id
            ),
            request=request,
        )
        member.delete()
        standing = (
            VipStanding.objects.select_for_update()
            .filter(
                client_id=client_id,
                status=Standing.Status.ACTIVE,
                kind=Standing.Kind.ENTERPRISE,
                enterprise=enterprise,
            )
            .first()
        )
        if standing is None:
            return
        policy = VipPolicy.current()
        other = (
            Enterprise.objects.filter(members__client_id=client_id, is_vip=True, active=True)
            .exclude(pk=enterprise.pk)
            .order_by("-vip_until", "pk")
            .first()
        )
        if other is not None:
            standing.enterprise, standing.valid_until = other, other.vip_until
            standing.save(update_fields=["enterprise", "valid_until", "updated_at"])
            _event(
                VipEvent.Action.RENEWED,
                client_id=client_id,
                by=by,
                policy=policy,
                detail=other.name,
            ).save()
            return
        _lapse(
            standing,
            policy=policy,
            by=by,
            detail=_("No longer an employee of %(name)s") % {"name": enterprise.name},
        )


def roster_counts() -> dict:
    return VipStanding.objects.filter(status=Standing.Status.ACTIVE).aggregate(
        total=Count("pk"),
        personal=Count("pk", filter=Q(kind=Standing.Kind.PERSONAL)),
        enterprise=Count("pk", filter=Q(kind=Standing.Kind.ENTERPRISE)),
        nominated=Count("pk", filter=Q(kind=Standing.Kind.NOMINATED)),
    )


# --- The closer cadence of VIP calls --------------------------------------------------


def vip_care_calls_plan(*, today=None, limit: int = 500) -> int:
    """A return-visit call for every active VIP who has had none made or planned within the
    policy's interval (seed: 定期对VIP客户进行回访). One call per VIP and period: the source
    names the period, so a second run makes nothing."""
    from followup.models import FollowUpCall
    from followup.services import call_create

    from .selectors import vips_without_recent_call

    today = _today(today)
    policy = VipPolicy.current()
    period = today.toordinal() // max(policy.followup_interval_days, 1)
    made = 0
    for client in vips_without_recent_call(policy=policy, today=today)[:limit]:
        call_create(
            client=client,
            due_on=today,
            reason=FollowUpCall.Reason.VIP_CARE,
            title=_("VIP care call"),
            script=_(
                "Ask how the client is, whether the last treatment went as hoped and whether they"
                " need an appointment, an exam or anything from their VIP manager."
            ),
            source=f"vip:{client.pk}:{period}",
        )
        made += 1
    return made


def merge_check(survivor, merged) -> None:
    """Refuse a merge the one-per-client VIP rows could not survive (clientmgmt's merge
    registry calls it before anything moves)."""
    both = [survivor.pk, merged.pk]
    if VipStanding.objects.filter(client_id__in=both).count() > 1:
        raise ValidationError(
            _("Both records have a VIP standing. Revoke the one on the record to merge away first.")
        )
    shared = (
        EnterpriseMember.objects.filter(client_id__in=both)
        .values("enterprise")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    if shared.exists():
        raise ValidationError(_("Both records are employees of the same enterprise; remove one."))
    if (
        VipCandidate.objects.filter(client_id__in=both, status=VipCandidate.Status.PENDING).count()
        > 1
    ):
        raise ValidationError(_("Both records wait for a VIP decision; decide one first."))


def describe_member_removed(*, enterprise: str, client: int) -> str:
    """What the audit trail says of an employee taken off an enterprise (zhongdu.audit.note)."""
    return _("%(enterprise)s, client #%(client)s") % {"enterprise": enterprise, "client": client}
