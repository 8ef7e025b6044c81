"""The outbox and a message's page keep a VIP's name and SMS text to those who serve the VIP
(seed 保密原则): messaging.selectors fetches every message through the client access helpers
(clientmgmt.selectors.clients_shown_for_user), so neither page can forget the rule."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from followup import services as followup
from messaging import services
from messaging.models import OutboxMessage
from tests.clientmgmt.factories import ClientFactory
from tests.conftest import ROLE_USERNAMES
from tests.vip.factories import vip
from zhongdu import roles

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status

VIP_TEXT = "贵宾您好，明天9:30请到三楼皮肤科复诊"


def make_vip(name="贵宾甲", phone="13912345678"):
    person = ClientFactory(name=name, phone=phone)
    vip(person)
    person.refresh_from_db()
    assert person.is_vip
    return person


def sms_to(person, *, key, status=Status.FAILED, body=VIP_TEXT):
    message = services.outbox_enqueue(
        idempotency_key=key, client=person, body=body, purpose="booking_reminder"
    )
    OutboxMessage.objects.filter(pk=message.pk).update(status=status)
    return message


def serve(person, role=roles.CLIENT_MANAGER):
    """Make the role's test user the handler of the VIP's open call due today."""
    me = get_user_model().objects.get(username=ROLE_USERNAMES[role])
    followup.call_create(client=person, due_on=timezone.localdate(), assigned_to=me)


def test_a_client_manager_who_does_not_serve_the_vip_sees_neither_name_nor_text(
    client_manager_client,
):
    person = make_vip()
    message = sms_to(person, key="vip")
    for url in (reverse("messaging:outbox_list"), reverse("messaging:outbox_attention")):
        page = client_manager_client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "贵宾甲" not in page and "明天9:30" not in page
        assert 'data-testid="vip-hidden"' in page and person.get_absolute_url() not in page
    detail = client_manager_client.get(message.get_absolute_url()).content.decode()
    assert "贵宾甲" not in detail and "明天9:30" not in detail
    assert 'data-testid="vip-hidden"' in detail and 'data-testid="text-withheld"' in detail
    assert person.get_absolute_url() not in detail
    assert "139****5678" in detail and "13912345678" not in detail  # the summary's masked number


def test_the_client_manager_can_still_send_a_failed_vip_message_again(client_manager_client):
    message = sms_to(make_vip(), key="vip")
    detail = client_manager_client.get(message.get_absolute_url()).content.decode()
    assert reverse("messaging:message_retry", args=[message.pk]) in detail
    client_manager_client.post(reverse("messaging:message_retry", args=[message.pk]))
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.PENDING


@pytest.mark.parametrize("role", [roles.MANAGER, roles.ADMINISTRATOR])  # the outbox's officers
def test_the_vip_officers_read_a_vips_messages_in_full(client_for, role):
    person = make_vip()
    message = sms_to(person, key="vip")
    browser = client_for(role)
    for url in (reverse("messaging:outbox_list"), message.get_absolute_url()):
        page = browser.get(url).content.decode()
        assert "贵宾甲" in page and "明天9:30" in page and 'data-testid="vip-hidden"' not in page


def test_the_client_manager_handling_the_vips_call_reads_their_messages(client_manager_client):
    person = make_vip()
    message = sms_to(person, key="vip")
    serve(person)
    listed = client_manager_client.get(reverse("messaging:outbox_list")).content.decode()
    assert "贵宾甲" in listed and "明天9:30" in listed
    detail = client_manager_client.get(message.get_absolute_url()).content.decode()
    assert "贵宾甲" in detail and VIP_TEXT in detail


def test_an_ordinary_clients_messages_stay_in_full_beside_a_vips(client_manager_client):
    sms_to(make_vip(), key="vip")
    sms_to(ClientFactory(name="李娜"), key="plain", body="李女士您好，明天复诊")
    page = client_manager_client.get(reverse("messaging:outbox_list")).content.decode()
    assert "李娜" in page and "李女士您好" in page
    assert "贵宾甲" not in page and "明天9:30" not in page


def test_the_outbox_pages_ask_the_rule_once_whatever_the_number_of_vips(
    client_manager_client, django_assert_max_num_queries
):
    """Session, user, roles, the messages with their clients, the escort and call checks of the
    discretion rule (two queries for the whole page), the user menu's count of notifications."""
    served = make_vip(name="贵宾乙", phone="13900000000")
    serve(served)
    sms_to(served, key="served")

    def add_vips(n):
        start = OutboxMessage.objects.count()
        for i in range(start, start + n):
            sms_to(make_vip(phone=f"1391000{i:04d}"), key=f"vip{i}")
            sms_to(ClientFactory(phone=f"1392000{i:04d}"), key=f"plain{i}", body="普通短信")

    def measured(url):
        client_manager_client.get(url)  # warm the caches a page keeps between requests
        with django_assert_max_num_queries(7) as queries:
            response = client_manager_client.get(url)
        page = response.context["page"]
        return len(queries), {m.client.name if not m.discreet else "?" for m in page.items}

    pages = [reverse("messaging:outbox_list"), reverse("messaging:outbox_attention")]
    add_vips(2)
    few = [measured(url) for url in pages]
    add_vips(10)
    many = [measured(url) for url in pages]
    assert [count for count, _names in few] == [count for count, _names in many]
    for _count, names in many:
        assert names == {"贵宾乙", "张伟", "?"}


def test_a_message_page_runs_a_fixed_number_of_queries(
    client_manager_client, django_assert_max_num_queries
):
    message = sms_to(make_vip(), key="vip")
    client_manager_client.get(message.get_absolute_url())
    # Session, user, roles, the message with its client and template, the rule's escort and
    # call checks, the history, the notifications count.
    with django_assert_max_num_queries(8):
        response = client_manager_client.get(message.get_absolute_url())
    assert response.status_code == 200
