"""A person is registered once: the new-client form's one-time key, and under the phone's lock the
duplicate rule (the same phone and the same name or date of birth is the same person; a family
sharing a mobile stays separate people), whichever way the record is made."""

import datetime

import pytest
from django.db import transaction
from django.urls import reverse

from clientmgmt import services
from clientmgmt.models import Client, ClientEvent
from tests.at_once import needs_postgres, post_at_once
from tests.clientmgmt.factories import ClientFactory

NEW = reverse("clientmgmt:client_create")
KEY = "0123456789abcdef0123456789abcdef"


def _form(**overrides):
    data = {
        "name": "王芳",
        "sex": "female",
        "date_of_birth": "1990-03-07",
        "phone": "139 1234 5678",
        "categories": ["is_patient"],
        "service_sms": "on",
        "key": KEY,
    }
    return data | overrides


def _data(**overrides):
    data = {"name": "王芳", "phone": "13912345678", "date_of_birth": datetime.date(1990, 3, 7)}
    return data | overrides


@pytest.mark.django_db
def test_the_new_client_form_carries_a_fresh_one_time_key(front_desk_client):
    page = front_desk_client.get(NEW)
    key = page.context["form"].initial["key"]
    assert f'type="hidden" name="key" value="{key}"' in page.content.decode()
    assert front_desk_client.get(NEW).context["form"].initial["key"] != key


@pytest.mark.django_db
def test_a_double_click_on_save_makes_one_client(front_desk_client):
    first = front_desk_client.post(NEW, _form())
    second = front_desk_client.post(NEW, _form())
    client = Client.objects.get()
    assert first["Location"] == second["Location"] == client.get_absolute_url()
    assert client.request_key == KEY
    assert ClientEvent.objects.filter(client=client, kind=ClientEvent.Kind.CREATED).count() == 1


@pytest.mark.django_db
def test_a_double_click_after_confirming_a_different_person_makes_one_more_client(
    front_desk_client,
):
    ClientFactory(name="王芳", phone="+8613912345678")
    front_desk_client.post(NEW, _form(name="王小芳", confirm_distinct="on"))
    front_desk_client.post(NEW, _form(name="王小芳", confirm_distinct="on"))
    assert Client.objects.count() == 2


@pytest.mark.django_db
def test_a_key_the_server_did_not_make_is_ignored(front_desk_client):
    response = front_desk_client.post(NEW, _form(key="not-a-key"))
    assert response.status_code == 302
    assert Client.objects.get().request_key == ""


@pytest.mark.django_db
def test_the_same_phone_and_name_is_the_same_person():
    first = services.client_create(data=_data(), by=None)
    again, new = services.client_register(data=_data(date_of_birth=None), by=None)
    assert (again, new) == (first, False)
    assert Client.objects.count() == 1


@pytest.mark.django_db
def test_the_same_phone_and_birth_date_is_the_same_person():
    first = services.client_create(data=_data(), by=None)
    again, new = services.client_register(data=_data(name="王 芳芳"), by=None)
    assert (again, new) == (first, False)


@pytest.mark.django_db
def test_a_family_sharing_a_mobile_stays_separate_people():
    mother = services.client_create(data=_data(), by=None)
    child, new = services.client_register(
        data=_data(name="王小明", date_of_birth=datetime.date(2015, 5, 5)), by=None
    )
    assert new and child != mother
    assert Client.objects.filter(phone="+8613912345678").count() == 2


@pytest.mark.django_db
def test_a_merged_record_is_not_the_person_a_registration_finds():
    merged = ClientFactory(name="王芳", phone="+8613912345678")
    Client.objects.filter(pk=merged.pk).update(
        status=Client.Status.MERGED, merged_into=ClientFactory(phone="+8613900000000")
    )
    client, new = services.client_register(data=_data(), by=None)
    assert new and client != merged


@pytest.mark.django_db
def test_the_phone_lock_is_taken_inside_the_transaction_and_is_a_no_op_without_a_phone():
    with transaction.atomic():
        services.client_phone_lock("139 1234 5678")
        services.client_phone_lock("")


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_ten_identical_new_client_forms_posted_at_once_make_one_client(front_desk_client):
    answers = post_at_once(front_desk_client, NEW, _form())
    client = Client.objects.get()
    assert [answer.status_code for answer in answers] == [302] * 10
    assert {answer["Location"] for answer in answers} == {client.get_absolute_url()}


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_ten_tabs_registering_the_same_person_at_once_make_one_client(front_desk_client):
    tabs = [_form(key=f"{n:032x}") for n in range(10)]
    answers = post_at_once(front_desk_client, NEW, tabs)
    client = Client.objects.get()
    # Each is sent to the record, or (once it is written) shown it to open instead.
    assert {getattr(answer, "status_code", answer) for answer in answers} <= {200, 302}
    assert {answer["Location"] for answer in answers if answer.status_code == 302} == {
        client.get_absolute_url()
    }
