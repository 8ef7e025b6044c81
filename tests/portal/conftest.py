"""The portal's shared fixtures: a client with a mobile, and a browserless sign-in as them."""

import re

import pytest
from django.urls import reverse

from messaging.models import OutboxMessage
from messaging.services import outbox_send
from tests.clientmgmt.factories import ClientFactory
from zhongdu import sms

PHONE = "13812345678"
E164 = "+86" + PHONE


@pytest.fixture
def patient(db, memory_sms):
    return ClientFactory(name="李娜", phone=E164)


def send_codes():
    """Run the outbox's real send task for what is pending; the codes the SMS carried."""
    for message in OutboxMessage.objects.filter(status="pending"):
        outbox_send(message_id=message.pk)
    return [re.search(r"\d{6}", sent.body).group() for sent in sms.outbox]


def ask_code(client, phone=PHONE, **extra):
    return client.post(reverse("portal:login"), {"phone": phone}, **extra)


def enter_code(client, code, **extra):
    return client.post(reverse("portal:login_code"), {"code": code}, **extra)


def sign_in(client, phone=PHONE):
    sms.clear()
    ask_code(client, phone)
    (code,) = send_codes()
    answer = enter_code(client, code)
    assert answer.status_code == 302, answer.content
    return answer


@pytest.fixture
def signed_in(client, patient):
    """The test client signed in to the portal as `patient`."""
    sign_in(client)
    return client
