"""Consent as the law asks (issue 16): one record per grant and withdrawal, per purpose, with the
notice version, time, channel and who recorded it; the state in force beside it; a withdrawal
stops the client's pending messages at once."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from clientmgmt import consent, services
from clientmgmt.models import Client, ClientConsent, ClientEvent, ConsentEvent
from clientmgmt.selectors import clients_with_consent, consent_states, has_consent
from messaging import services as messaging
from messaging.models import OutboxMessage, Purpose, SmsTemplate
from tests.clientmgmt.factories import ClientFactory, grant, withdraw
from tests.factories import UserFactory
from zhongdu import roles
from zhongdu.models import AuditEvent
from zhongdu.services import hospital_profile_add

pytestmark = pytest.mark.django_db


@pytest.fixture
def notice():
    return hospital_profile_add(
        by=None,
        display_name="中都皮肤病医院",
        privacy_notice="我们仅为安排就诊处理您的健康信息。",
        privacy_notice_version="2026-12",
    )


def test_a_new_client_has_the_purposes_defaults():
    person = ClientFactory()
    assert consent_states(person) == {
        "health_data": False,
        "service_sms": True,  # on unless refused, as before
        "marketing_sms": False,
        "service_voice": False,  # a recorded choice
        "employer_aggregate": False,  # counted in a team report only once agreed
    }
    assert not ConsentEvent.objects.exists()


def test_each_grant_and_withdrawal_is_kept_with_its_notice_time_channel_and_author(notice):
    person = ClientFactory()
    clerk = UserFactory(username="t_clerk", roles=[roles.FRONT_DESK])
    grant(person, "marketing_sms", by=clerk, method="written")
    withdraw(person, "marketing_sms", channel="sms_reply")
    first, second = ConsentEvent.objects.filter(client=person).order_by("at", "pk")
    assert (first.granted, first.notice_version, first.channel, first.method) == (
        True,
        "2026-12",
        "client_page",
        "written",
    )
    assert first.recorded_by == clerk
    assert (second.granted, second.channel, second.recorded_by) == (False, "sms_reply", None)
    assert first.at <= second.at <= timezone.now()
    assert has_consent(person, "marketing_sms") is False
    assert ClientConsent.objects.get(client=person, purpose="marketing_sms").event == second
    # The client's log and the audit trail say so, naming the purpose.
    logged = ClientEvent.objects.filter(client=person, kind=ClientEvent.Kind.CONSENT)
    assert [e.fields for e in logged] == [["marketing_sms"], ["marketing_sms"]]
    assert AuditEvent.objects.filter(object_id=str(person.pk), action="update").count() == 2


def test_the_same_answer_to_the_same_notice_is_recorded_once_a_new_notice_again(notice):
    person = ClientFactory()
    assert grant(person, "health_data") is not None
    assert grant(person, "health_data") is None
    hospital_profile_add(by=None, privacy_notice_version="2027-06")
    again = grant(person, "health_data")
    assert again.notice_version == "2027-06"
    assert ConsentEvent.objects.filter(client=person).count() == 2


def test_the_history_cannot_be_changed():
    event = grant(ClientFactory(), "health_data")
    with pytest.raises(ConsentEvent.Immutable):
        event.save()
    with pytest.raises(ConsentEvent.Immutable):
        ConsentEvent.objects.update(granted=False)


def test_an_unknown_purpose_or_channel_is_a_programming_error():
    person = ClientFactory()
    with pytest.raises(ValueError):
        services.consent_grant(client=person, purpose="voice", channel="client_page")
    with pytest.raises(ValueError):
        services.consent_grant(client=person, purpose="health_data", channel="fax")


def test_marketing_cannot_be_granted_while_all_sms_are_refused():
    person = ClientFactory()
    withdraw(person, "service_sms")
    with pytest.raises(ValidationError):
        grant(person, "marketing_sms")
    assert has_consent(person, "marketing_sms") is False


def test_an_older_answer_recorded_later_does_not_override_a_newer_one():
    person = ClientFactory()
    withdraw(person, "marketing_sms")
    earlier = timezone.now() - datetime.timedelta(days=3)
    grant(person, "marketing_sms", at=earlier, channel="public_page")
    assert has_consent(person, "marketing_sms") is False
    assert ConsentEvent.objects.filter(client=person).count() == 2  # both kept


def test_an_older_withdrawal_recorded_later_stops_nothing_said_since():
    person = ClientFactory()
    grant(person, "service_sms")
    grant(person, "marketing_sms")
    waiting = _pending(person, "m", "marketing")
    # A refusal given three days ago, recorded only now: what the person said since stands.
    withdraw(person, "service_sms", at=timezone.now() - datetime.timedelta(days=3))
    assert has_consent(person, "service_sms") and has_consent(person, "marketing_sms")
    waiting.refresh_from_db()
    assert waiting.status == "pending"


def test_who_has_consent_is_one_condition_on_the_client_list():
    agreed, refused, silent = ClientFactory(), ClientFactory(), ClientFactory()
    grant(agreed, "marketing_sms")
    withdraw(refused, "service_sms")
    clients = Client.objects.all()
    assert list(clients_with_consent(clients, "marketing_sms")) == [agreed]
    assert set(clients_with_consent(clients, "service_sms")) == {agreed, silent}


# --- A withdrawal takes effect on every pending message at once ----------------------------


def _pending(person, key, kind):
    SmsTemplate.objects.get_or_create(
        code=f"t-{kind}", defaults={"purpose": Purpose.GREETING, "kind": kind, "body": "您好"}
    )
    return messaging.outbox_enqueue(
        idempotency_key=f"{key}-{person.pk}",
        purpose=Purpose.GREETING,
        to=person.phone,
        client=person,
        kind=kind,
        template_code=f"t-{kind}",
        values={},
        send_after=timezone.now() + datetime.timedelta(days=1),
    )


def test_withdrawing_marketing_suppresses_pending_marketing_at_once_and_leaves_service():
    person = ClientFactory()
    grant(person, "marketing_sms")
    marketing = _pending(person, "m", "marketing")
    service = _pending(person, "s", "service")
    assert marketing.status == service.status == "pending"
    withdraw(person, "marketing_sms")
    marketing.refresh_from_db()
    service.refresh_from_db()
    assert (marketing.status, marketing.error_code) == ("suppressed", "no_consent")
    assert marketing.events.last().detail  # says why, through the outbox's own record
    assert service.status == "pending"


def test_refusing_all_sms_suppresses_every_pending_message_and_withdraws_marketing():
    person = ClientFactory()
    grant(person, "marketing_sms")
    marketing = _pending(person, "m", "marketing")
    service = _pending(person, "s", "service")
    withdraw(person, "service_sms")
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"suppressed"}
    service.refresh_from_db()
    assert service.error_code == "refused_sms"
    assert has_consent(person, "marketing_sms") is False
    cascade = ConsentEvent.objects.get(client=person, purpose="marketing_sms", granted=False)
    assert cascade.channel == "client_page"
    assert marketing.pk != service.pk


def test_another_clients_messages_are_left_alone():
    person, other = ClientFactory(), ClientFactory()
    grant(other, "marketing_sms")
    waiting = _pending(other, "m", "marketing")
    withdraw(person, "service_sms")
    waiting.refresh_from_db()
    assert waiting.status == "pending"


# --- Merges ---------------------------------------------------------------------------------


def test_a_merge_keeps_what_the_person_said_last_and_its_undo_gives_it_back(role_user):
    by = role_user(roles.CLIENT_MANAGER)
    survivor = ClientFactory(name="王芳", phone="+8613900001111")
    merged = ClientFactory(name="王芳", phone="+8613900001111")
    grant(survivor, "marketing_sms")
    withdraw(merged, "service_sms")  # said later, on the other record
    merge = services.client_merge(survivor=survivor, merged=merged, by=by)
    assert has_consent(survivor, "service_sms") is False
    assert has_consent(survivor, "marketing_sms") is True  # its grant is the latest of its kind
    assert ConsentEvent.objects.filter(client=survivor).count() == 2
    services.client_unmerge(merge=merge, by=by)
    assert consent_states(survivor)["service_sms"] is True
    assert consent_states(merged)["service_sms"] is False


# --- The data migration ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_carries_the_old_switches_into_consent_events():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    before, after = [("clientmgmt", "0003_verbose_names")], [("clientmgmt", "0004_consent")]
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps
        OldClient = old.get_model("clientmgmt", "Client")
        User = old.get_model("auth", "User")
        clerk = User.objects.create(username="t_old_clerk")
        refused_at = timezone.now() - datetime.timedelta(days=30)
        agreed_at = timezone.now() - datetime.timedelta(days=20)
        common = {"sex": "female"}
        refused = OldClient.objects.create(
            name="拒收", service_sms=False, service_sms_refused_at=refused_at, **common
        )
        agreed = OldClient.objects.create(
            name="同意",
            marketing_opt_in=True,
            marketing_opt_in_at=agreed_at,
            marketing_opt_in_method="written",
            marketing_opt_in_by=clerk,
            **common,
        )
        silent = OldClient.objects.create(name="默认", **common)
        executor = MigrationExecutor(connection)
        executor.migrate(after)
    finally:
        MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())
    refusal = ConsentEvent.objects.get(client_id=refused.pk)
    assert (refusal.purpose, refusal.granted, refusal.channel) == (
        "service_sms",
        False,
        "migration",
    )
    assert refusal.notice_version == consent.BEFORE_NOTICES == "before 2026-12"
    assert refusal.at == refused_at
    agreement = ConsentEvent.objects.get(client_id=agreed.pk)
    assert (agreement.purpose, agreement.granted, agreement.method) == (
        "marketing_sms",
        True,
        "written",
    )
    assert (agreement.at, agreement.recorded_by_id) == (agreed_at, clerk.pk)
    assert not ConsentEvent.objects.filter(client_id=silent.pk).exists()
    assert consent_states(Client.objects.get(pk=refused.pk))["service_sms"] is False
    assert consent_states(Client.objects.get(pk=agreed.pk))["marketing_sms"] is True
    assert consent_states(Client.objects.get(pk=silent.pk)) == {
        "health_data": False,
        "service_sms": True,
        "marketing_sms": False,
        "service_voice": False,
        "employer_aggregate": False,
    }
    assert not any(f.name == "service_sms" for f in Client._meta.get_fields())


# --- The client page ------------------------------------------------------------------------


def test_the_client_page_shows_each_purpose_in_force_and_the_history(front_desk_client, notice):
    person = ClientFactory()
    clerk = UserFactory(username="t_clerk", roles=[roles.FRONT_DESK])
    grant(person, "marketing_sms", by=clerk, method="phone")
    withdraw(person, "health_data")
    page = front_desk_client.get(person.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert 'data-purpose="marketing_sms" data-granted="yes"' in html
    assert 'data-purpose="health_data" data-granted="no"' in html
    assert 'data-purpose="service_sms" data-granted="yes"' in html
    assert "2026-12" in html and "Client page" in html and "On the phone" in html
    assert f"recorded by {clerk.get_full_name() or clerk.username}" in html
    assert 'data-testid="consent-history"' in html
    # Withdrawing asks for confirmation first.
    assert "Pending messages stop at once." in html
    chinese = front_desk_client.get(person.get_absolute_url()).content.decode()
    assert "营销短信" in chinese and "授权历史" in chinese and "客户页面" in chinese


def test_staff_record_a_grant_and_a_withdrawal_on_the_client_page(front_desk_client):
    person = ClientFactory()
    url = reverse("clientmgmt:client_consent", args=[person.pk])
    page = front_desk_client.post(
        url, {"purpose": "health_data", "answer": "grant", "method": "written"}
    )
    assert page.status_code == 302
    assert has_consent(person, "health_data")
    event = ConsentEvent.objects.get(client=person)
    assert (event.channel, event.recorded_by.username) == ("client_page", "t_frontdesk")
    audited = AuditEvent.objects.get(action="update", object_id=str(person.pk))
    assert audited.changed_fields == ["health_data"]
    front_desk_client.post(url, {"purpose": "health_data", "answer": "withdraw"})
    assert has_consent(person, "health_data") is False


@pytest.mark.parametrize(
    "data",
    [
        {"purpose": "voice", "answer": "grant", "method": "written"},
        {"purpose": "health_data", "answer": "maybe"},
        {"purpose": "health_data", "answer": "grant"},  # how the client agreed: not said
        {"purpose": "health\x00data", "answer": "grant", "method": "written"},
        {},
    ],
)
def test_a_bad_consent_post_changes_nothing_and_says_why(front_desk_client, data):
    person = ClientFactory()
    url = reverse("clientmgmt:client_consent", args=[person.pk])
    page = front_desk_client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code in (302, 400)
    assert not ConsentEvent.objects.exists()


def test_a_grant_without_how_is_explained_in_both_languages(front_desk_client):
    person = ClientFactory()
    url = reverse("clientmgmt:client_consent", args=[person.pk])
    data = {"purpose": "health_data", "answer": "grant"}
    page = front_desk_client.post(url, data, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "Record how the client agreed." in page.content.decode()
    page = front_desk_client.post(url, data, follow=True)
    assert "请记录客户以何种方式同意。" in page.content.decode()


@pytest.mark.parametrize("role", [roles.MANAGER, roles.CLINICIAN])
def test_roles_that_only_read_cannot_record_consent(client_for, role):
    person = ClientFactory()
    url = reverse("clientmgmt:client_consent", args=[person.pk])
    page = client_for(role).post(url, {"purpose": "service_sms", "answer": "withdraw"})
    assert page.status_code == 403
    assert has_consent(person, "service_sms")


def test_anonymous_visitors_are_sent_to_sign_in(client):
    person = ClientFactory()
    url = reverse("clientmgmt:client_consent", args=[person.pk])
    page = client.post(url, {"purpose": "service_sms", "answer": "withdraw"})
    assert page.status_code == 302 and "login" in page["Location"]
    assert has_consent(person, "service_sms")


def test_the_consent_page_takes_only_posts(front_desk_client):
    person = ClientFactory()
    url = reverse("clientmgmt:client_consent", args=[person.pk])
    assert front_desk_client.get(url).status_code == 405
    assert roles.PAGE_ACCESS["clientmgmt:client_consent"] == roles.CLIENT_EDITORS
