"""Forms of follow-up that create something carry a one-time key: the same form posted twice
(a double click on a slow network, a resubmitted tab) writes one record."""

import pytest
from django.urls import reverse

from clientmgmt.models import Client
from events.models import Event, EventAttendance
from tests.events.test_events import _at, make_event

pytestmark = pytest.mark.django_db

KEY = "0123456789abcdef0123456789abcdef"


def test_the_door_form_for_someone_new_carries_a_one_time_key(front_desk_client):
    event = make_event()
    door = reverse("events:event_door", args=[event.pk])
    page = front_desk_client.get(door, {"phone": "13755556666"})
    key = page.context["new_form"].initial["key"]
    assert f'type="hidden" name="key" value="{key}"' in page.content.decode()


def test_a_double_click_at_the_door_registers_and_ticks_in_someone_new_once(front_desk_client):
    event = make_event()
    register = reverse("events:event_register", args=[event.pk])
    form = {"name": "郭新", "sex": "female", "phone": "13755556666", "service_sms": "on"}
    first = front_desk_client.post(register, form | {"key": KEY})
    second = front_desk_client.post(register, form | {"key": KEY})
    assert first.status_code == second.status_code == 302
    attendance = EventAttendance.objects.get()
    assert Client.objects.get() == attendance.client and attendance.registered_here


def test_a_double_click_on_save_makes_one_event_and_one_channel(client_manager_client):
    new = reverse("events:event_new")
    page = client_manager_client.get(new)
    key = page.context["form"].initial["key"]
    assert f'name="key" value="{key}"' in page.content.decode()
    form = {
        "title": "皮肤健康学校：春季过敏",
        "kind": "lecture",
        "starts_at": _at(10, 14).strftime("%Y-%m-%dT%H:%M"),
        "place": "三楼多功能厅",
        "capacity": "50",
        "key": key,
    }
    answers = [client_manager_client.post(new, form) for _click in (1, 2)]
    event = Event.objects.get()
    assert [answer["Location"] for answer in answers] == [event.get_absolute_url()] * 2
