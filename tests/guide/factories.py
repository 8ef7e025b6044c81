"""Factories for the front desk. Visits, cards and exam orders are made through the real
services, so their events, the booking's status and the client's categories are what the
application would write."""

import datetime
from decimal import Decimal

from django.utils import timezone

from guide import services
from guide.models import ExamPackage, TriageKeyword
from tests.clientmgmt.factories import ClientFactory
from tests.consult.factories import make_booking
from tests.zhongdu.factories import ClinicSessionFactory, PriceItemFactory
from zhongdu.models import PriceItem


def today_session(**kwargs):
    """A session today that is sitting all day, so it is open whatever the clock says."""
    kwargs.setdefault("start_time", datetime.time(0, 0))
    kwargs.setdefault("end_time", datetime.time(23, 59))
    return ClinicSessionFactory(date=timezone.localdate(), **kwargs)


def booked_today(*, client=None, session=None, by=None, **kwargs):
    """A live booking for a session today (the board's expected row)."""
    return make_booking(client=client, session=session or today_session(), by=by, **kwargs)


def checked_in(*, client=None, by=None, session=None):
    booking = booked_today(client=client, by=by, session=session)
    return services.visit_check_in(booking=booking, by=by)


def walk_in(*, client=None, by=None, **kwargs):
    return services.visit_register_walk_in(client=client or ClientFactory(), by=by, **kwargs)


def triaged(visit, *, by=None, department=None, expert=None, **kwargs):
    department = department or visit.department or visit.session.department
    return services.visit_triage(visit=visit, department=department, expert=expert, by=by, **kwargs)


def price(code="GH001", amount="20.00", category=PriceItem.Category.REGISTRATION, **kwargs):
    return PriceItemFactory(code=code, price=Decimal(amount), category=category, **kwargs)


def exam_package(code="TC003", amount="480.00", items=("JC001", "JC012")):
    package = ExamPackage.objects.create(
        price_item=price(code, amount, category=PriceItem.Category.PACKAGE)
    )
    package.items.set([price(item, "100.00", category=PriceItem.Category.EXAM) for item in items])
    return package


def issue_card(*, client=None, by=None, number="ZD00000001", months=12, fee="200.00", **kw):
    return services.card_issue(
        client=client or ClientFactory(),
        number=number,
        level=kw.pop("level", "standard"),
        valid_from=kw.pop("valid_from", timezone.localdate()),
        months=months,
        fee=Decimal(fee),
        by=by,
        **kw,
    )


def keyword(word, department):
    return TriageKeyword.objects.create(keyword=word, department=department)


def exam_order(*, client=None, package=None, items=(), visit=None, by=None):
    """An exam order made by the real service (a package, single examinations, or both)."""
    return services.exam_order_create(
        client=client or ClientFactory(), package=package, items=items, visit=visit, by=by
    )
