import pytest
from django.urls import reverse

from clientmgmt.models import Client
from tests.clientmgmt.factories import ClientFactory
from zhongdu.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_an_administrator_deletes_a_client_in_the_admin_and_it_is_audited(admin_client_):
    client = ClientFactory(name="李娜", phone="13912345678")
    url = reverse("admin:clientmgmt_client_delete", args=[client.pk])
    page = admin_client_.get(url)
    assert page.status_code == 200
    assert "13912345678" not in page.content.decode()
    admin_client_.post(url, {"post": "yes"})
    assert not Client.objects.filter(pk=client.pk).exists()
    event = AuditEvent.objects.get(action="delete")
    assert event.object_id == str(client.pk) and event.actor_username == "t_admin"


def test_the_admin_shows_clients_masked_and_read_only(admin_client_):
    client = ClientFactory(name="李娜", phone="13912345678")
    body = admin_client_.get(reverse("admin:clientmgmt_client_change", args=[client.pk]))
    text = body.content.decode()
    assert "139****5678" in text and "13912345678" not in text
    assert admin_client_.get(reverse("admin:clientmgmt_client_add")).status_code == 403
