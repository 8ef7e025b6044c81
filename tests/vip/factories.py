"""Factories for VIP: policies through the real service, spend through real charges."""

import datetime
from decimal import Decimal

from django.utils import timezone

from guide import services as guide_services
from guide.models import Charge
from tests.clientmgmt.factories import ClientFactory
from tests.guide.factories import price, walk_in
from vip import services
from vip.models import Enterprise


def policy(**fields):
    fields.setdefault("personal_annual_spend", Decimal("50000"))
    return services.policy_add(by=None, note="test", **fields)


def spend(client, amount, *, days_ago=0):
    """Charge `amount` yuan to the client (a walk-in visit, ended), `days_ago` days back."""
    visit = walk_in(client=client)
    item = price(code=f"T{Charge.objects.count():05d}", amount=str(amount))
    charge = guide_services.charge_add(visit=visit, price_item=item, by=None)
    guide_services.visit_set_status(visit=visit, new_status="left", by=None)
    if days_ago:
        Charge.objects.filter(pk=charge.pk).update(
            charged_at=timezone.now() - datetime.timedelta(days=days_ago)
        )
    return charge


def enterprise(**fields):
    today = timezone.localdate()
    fields.setdefault("name", "郑州重工集团")
    fields.setdefault("agreement_start", today - datetime.timedelta(days=30))
    fields.setdefault("agreement_end", today + datetime.timedelta(days=335))
    fields.setdefault("employee_count", 500)
    return Enterprise.objects.create(**fields)


def client(**kwargs):
    return ClientFactory(**kwargs)


def vip(person=None, *, kind="personal", amount="60000.00", by=None, enterprise=None, **kwargs):
    """A VIP standing granted through the real service (the current policy, or a fresh one)."""
    from vip.models import VipPolicy

    person = person or client()
    current = VipPolicy.objects.order_by("-pk").first() or policy()
    return services.grant(
        client_id=person.pk,
        kind=kind,
        policy=current,
        by=by,
        spend=Decimal(amount),
        enterprise=enterprise,
        **kwargs,
    )
