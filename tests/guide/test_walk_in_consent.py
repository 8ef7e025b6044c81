"""A walk-in registered at the desk: the form shows the privacy notice's version and records each
consent separately, as given at the walk-in desk (issue 16)."""

import pytest
from django.urls import reverse

from clientmgmt.models import Client, ConsentEvent
from clientmgmt.selectors import consent_states
from zhongdu.services import hospital_profile_add

pytestmark = pytest.mark.django_db

WALK_IN = reverse("guide:walk_in")


@pytest.fixture(autouse=True)
def notice():
    hospital_profile_add(
        by=None, privacy_notice="仅为诊疗处理您的信息。", privacy_notice_version="2026-12"
    )


def test_the_walk_in_form_shows_the_notice_version_and_each_consent(front_desk_client):
    page = front_desk_client.get(WALK_IN, {"phone": "13912345678"}, HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert "Privacy notice version 2026-12" in html
    for code in ("health_data", "service_sms", "marketing_sms"):
        assert f'name="{code}"' in html
    chinese = front_desk_client.get(WALK_IN, {"phone": "13912345678"}).content.decode()
    assert "隐私声明版本 2026-12" in chinese and "健康信息处理" in chinese


def test_the_walk_in_records_each_consent_given_at_the_desk(front_desk_client):
    data = {
        "name": "孙丽",
        "sex": "female",
        "date_of_birth": "1990-03-07",
        "phone": "13912345678",
        "categories": ["is_patient"],
        "health_data": "on",
        "service_sms": "on",
        "consent_method": "verbal",
        "key": "0123456789abcdef0123456789abcdef",
    }
    front_desk_client.post(WALK_IN, data)
    person = Client.objects.get()
    assert consent_states(person) == {
        "health_data": True,
        "service_sms": True,
        "marketing_sms": False,
        "service_voice": False,
        "employer_aggregate": False,
    }
    events = ConsentEvent.objects.filter(client=person).order_by("purpose")
    assert [(e.purpose, e.granted, e.channel, e.method, e.notice_version) for e in events] == [
        ("health_data", True, "walk_in", "verbal", "2026-12"),
        ("service_sms", True, "walk_in", "verbal", "2026-12"),
    ]
    assert {e.recorded_by.username for e in events} == {"t_frontdesk"}
