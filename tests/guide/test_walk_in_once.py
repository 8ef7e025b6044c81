"""A walk-in is registered once: a double click on "register", a second tab or ten clerks posting
the same person at once make one client record and one open visit."""

import pytest
from django.urls import reverse

from clientmgmt.models import Client
from guide.models import Visit
from tests.at_once import needs_postgres, post_at_once

WALK_IN = reverse("guide:walk_in")
KEY = "0123456789abcdef0123456789abcdef"


def _new_client_data(**overrides):
    data = {
        "name": "孙丽",
        "sex": "female",
        "date_of_birth": "1990-03-07",
        "phone": "13912345678",
        "categories": ["is_patient"],
        "service_sms": "on",
        "key": KEY,
    }
    return data | overrides


@pytest.mark.django_db
def test_the_new_walk_in_form_carries_a_one_time_key(front_desk_client):
    page = front_desk_client.get(WALK_IN, {"phone": "13912345678"})
    key = page.context["new_form"].initial["key"]
    assert f'type="hidden" name="key" value="{key}"' in page.content.decode()
    again = front_desk_client.get(WALK_IN, {"phone": "13912345678"})
    assert again.context["new_form"].initial["key"] != key


@pytest.mark.django_db
def test_a_double_click_on_register_makes_one_client_and_one_visit(front_desk_client):
    first = front_desk_client.post(WALK_IN, _new_client_data())
    second = front_desk_client.post(WALK_IN, _new_client_data())
    visit = Visit.objects.get()
    assert Client.objects.get() == visit.client
    assert first["Location"] == second["Location"] == visit.get_absolute_url()


@pytest.mark.django_db
def test_a_second_tab_with_its_own_key_is_shown_the_person_registered_in_the_first(
    front_desk_client,
):
    front_desk_client.post(WALK_IN, _new_client_data())
    other_tab = front_desk_client.post(WALK_IN, _new_client_data(key="f" * 32))
    assert other_tab.status_code == 409
    assert list(other_tab.context["duplicates"]) == [Client.objects.get()]
    assert Visit.objects.count() == 1


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_ten_identical_walk_ins_posted_at_once_make_one_client_and_one_visit(front_desk_client):
    answers = post_at_once(front_desk_client, WALK_IN, _new_client_data())
    visit = Visit.objects.get()
    assert Client.objects.get() == visit.client
    assert [answer.status_code for answer in answers] == [302] * 10
    assert {answer["Location"] for answer in answers} == {visit.get_absolute_url()}


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_ten_tabs_registering_the_same_walk_in_at_once_make_one_client_and_one_visit(
    front_desk_client,
):
    """Each tab has its own key: the phone's lock and the duplicate rule decide."""
    tabs = [_new_client_data(key=f"{n:032x}") for n in range(10)]
    answers = post_at_once(front_desk_client, WALK_IN, tabs)
    visit = Visit.objects.get()
    assert Client.objects.get() == visit.client
    # Each is sent to the visit, or (once the first is written) shown the record to open.
    assert {getattr(answer, "status_code", answer) for answer in answers} <= {302, 409}
    assert {answer["Location"] for answer in answers if answer.status_code == 302} == {
        visit.get_absolute_url()
    }
