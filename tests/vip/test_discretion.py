"""Discretion (seed 保密原则): a VIP's record in full only to the VIP managers, managers,
administrators and the staff assigned to the client; everyone else gets the masked summary, and
every access is audited."""

import pytest
from django.urls import reverse

from clientmgmt.models import Client
from followup import services as followup
from tests.clientmgmt.factories import ClientFactory
from tests.conftest import ROLE_USERNAMES
from tests.factories import UserFactory
from vip.models import VipStanding
from zhongdu import roles
from zhongdu.models import AuditEvent

pytestmark = pytest.mark.django_db

FULL = {roles.VIP_MANAGER, roles.MANAGER, roles.ADMINISTRATOR}


def make_vip(**kwargs):
    person = ClientFactory(name="贵宾甲", notes="只给VIP经理看的备注", **kwargs)
    Client.objects.filter(pk=person.pk).update(is_vip=True)
    VipStanding.objects.create(client=person, kind="personal", since="2026-01-01")
    person.refresh_from_db()
    return person


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES))
def test_a_vips_record_is_whole_only_for_those_who_serve_them(client_for, role):
    person = make_vip()
    page = client_for(role).get(person.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.status_code == 200
    if role in FULL:
        assert "只给VIP经理看的备注" in html and 'data-testid="timeline"' in html
    else:
        assert 'data-testid="discretion"' in html
        assert "只给VIP经理看的备注" not in html and 'data-testid="timeline"' not in html
        assert person.phone not in html and person.phone_masked in html
    event = AuditEvent.objects.get(object_id=str(person.pk), action="view")
    assert event.actor_username == ROLE_USERNAMES[role]
    assert event.reason == ("" if role in FULL else "summary")


def test_an_ordinary_record_is_whole_for_everyone(front_desk_client):
    person = ClientFactory(notes="普通备注")
    assert "普通备注" in front_desk_client.get(person.get_absolute_url()).content.decode()


def test_the_vips_escort_and_the_handler_of_their_call_see_the_whole_record(client_for, role_user):
    person = make_vip()
    escort = role_user(roles.FRONT_DESK)
    VipStanding.objects.filter(client=person).update(escort=escort)
    page = client_for(roles.FRONT_DESK).get(person.get_absolute_url())
    assert "只给VIP经理看的备注" in page.content.decode()
    roles.sync_group_permissions()
    handler = UserFactory(username="t_clientmgr", roles=[roles.CLIENT_MANAGER])
    manager_page = client_for(roles.CLIENT_MANAGER).get(person.get_absolute_url())
    assert "只给VIP经理看的备注" not in manager_page.content.decode()
    followup.call_create(client=person, due_on=person.created_at.date(), assigned_to=handler)
    manager_page = client_for(roles.CLIENT_MANAGER).get(person.get_absolute_url())
    assert "只给VIP经理看的备注" in manager_page.content.decode()


def test_others_can_neither_reveal_nor_edit_a_vips_record(client_for):
    person = make_vip()
    consultant = client_for(roles.CONSULTANT)
    reveal = consultant.post(
        reverse("clientmgmt:client_reveal", args=[person.pk]),
        {"field": "phone", "reason": "回电"},
    )
    assert reveal.status_code == 403
    assert consultant.get(reverse("clientmgmt:client_edit", args=[person.pk])).status_code == 403
    assert not AuditEvent.objects.filter(action="reveal").exists()
    vip_manager = client_for(roles.VIP_MANAGER)
    assert vip_manager.get(reverse("clientmgmt:client_edit", args=[person.pk])).status_code == 200
