"""The patient portal's demo person: seed_demo prints the number to sign in with, and the person
signs in with it (the code from the SMS) to a record with an upcoming booking, released results
and a child to switch to. Made once."""

import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from clientmgmt.models import Client
from consult.models import Booking
from demo import portal as portal_demo
from exams.models import ResultRelease
from messaging.models import OutboxMessage, Purpose
from messaging.services import outbox_send
from tests.portal.conftest import ask_code, enter_code
from zhongdu import sms

pytestmark = pytest.mark.django_db


def test_the_demo_person_signs_in_with_the_number_seed_demo_prints(settings, client, memory_sms):
    settings.DEBUG = True  # pytest-django runs with DEBUG off; the demo is for development
    out = io.StringIO()
    call_command("seed_demo", password="winter-plum-2026", days=0, stdout=out)
    assert "/my/login/ as 周晓梅 with 13900001234" in out.getvalue()
    person = Client.objects.get(phone=portal_demo.DEMO_PHONE, name=portal_demo.DEMO_NAME)
    upcoming = Booking.objects.filter(client=person, session__date__gt=timezone.localdate())
    assert upcoming.count() == 1
    assert ResultRelease.objects.filter(order__client=person).count() == 1
    sms.clear()
    ask_code(client, phone="139 0000 1234")
    # The outbox's real task sends the code (the demo's other messages wait for the sweep).
    (message,) = OutboxMessage.objects.filter(purpose=Purpose.SIGN_IN_CODE, status="pending")
    outbox_send(message_id=message.pk)
    (sent,) = [sent for sent in sms.outbox if sent.to == portal_demo.DEMO_PHONE]
    code = re.search(r"(?<!\d)\d{6}(?!\d)", sent.body).group()
    answer = enter_code(client, code)
    assert answer.status_code == 302 and answer["Location"] == reverse("portal:home")
    home = client.get(reverse("portal:home")).content.decode()
    assert "周晓梅" in home and portal_demo.CHILD_NAME in home
    call_command("seed_demo", password="winter-plum-2026", days=0, stdout=io.StringIO())
    assert Client.objects.filter(phone=portal_demo.DEMO_PHONE).count() == portal_demo.PEOPLE
