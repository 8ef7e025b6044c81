"""The patient portal's demo person (seed_demo): a client with a known mobile, so anyone can sign
in at /my/login/ (the code's SMS is printed in the console where `make run` runs), with an
upcoming booking, released exam results (one finding to watch) and a child they were authorised
to see. Made once, through the real services.

The number is one the client generator never gives: its index in demo.clients' permutation of
the phone space (about 3.4 billion) is far above any generated count and below the demo
clients' numbers, which are taken from the top of the space."""

import datetime
import random

from django.db import transaction
from django.utils import timezone

from clientmgmt import consent
from clientmgmt.models import Client
from clientmgmt.services import client_create
from consult import services as consult
from consult.models import Booking
from exams import services as results
from guide import services as guide_services
from guide.models import ExamPackage
from portal import services as portal
from zhongdu.models import ClinicSession

from .exams import SUMMARY, _record_all

DEMO_PHONE = "+8613900001234"
DEMO_NAME = "周晓梅"
CHILD_NAME = "周小宇"
PACKAGE = "TC003"  # the skin exam package: the dermoscopy shows pigmentation to watch
ABNORMAL = ("JC012",)
PEOPLE = 2  # the person and her child, registered by the front desk


def _person(name, sex, born, *, by) -> Client:
    return client_create(
        data={
            "name": name,
            "sex": sex,
            "date_of_birth": born,
            "phone": DEMO_PHONE,
            "consents": {consent.SERVICE_SMS: True, consent.HEALTH_DATA: True},
            "consent_method": consent.Method.WRITTEN,
        },
        by=by,
        distinct=True,
    )


def seed_portal_person(*, frontdesk, doctor) -> dict:
    """The demo person, once: {"phone", "created"} (nothing new when the number is on file)."""
    if Client.objects.filter(phone=DEMO_PHONE).exists():
        return {"phone": DEMO_PHONE, "created": False}
    today = timezone.localdate()
    with transaction.atomic():
        person = _person(DEMO_NAME, "female", datetime.date(1988, 3, 14), by=frontdesk)
        # A child registered with the mother's mobile, whom she may see (the birth certificate
        # seen at the desk): she still signs in as herself.
        child = _person(CHILD_NAME, "male", today.replace(year=today.year - 7, day=1), by=frontdesk)
        portal.dependant_authorise(
            holder=person,
            dependant=child,
            relation="child",
            evidence="出生医学证明（导医台核验）",
            by=frontdesk,
        )
        session = (
            ClinicSession.objects.filter(
                date__gt=today, status=ClinicSession.Status.SCHEDULED, expert__isnull=False
            )
            .order_by("date", "start_time", "pk")
            .first()
        )
        if session is not None:
            consult.booking_create(
                client=person, session=session, kind=Booking.Kind.EXPERT, by=frontdesk
            )
        # She came today for her skin exam (a visit the front desk recorded): a returning client,
        # who books on the portal herself.
        guide_services.visit_register_walk_in(client=person, by=frontdesk)
        package = ExamPackage.objects.filter(price_item__code=PACKAGE).first()
        if package is not None:
            order = guide_services.exam_order_create(client=person, package=package, by=frontdesk)
            rng = random.Random(21)  # noqa: S311 (demo values, not secrets)
            _record_all(order, by=doctor, rng=rng, abnormal=ABNORMAL)
            guide_services.exam_order_complete(order=order, result_summary=SUMMARY, by=doctor)
            results.results_release(order=order, by=doctor)
    return {"phone": DEMO_PHONE, "created": True}
