import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from clientmgmt.models import Client, ConsentEvent
from clientmgmt.selectors import has_consent
from messaging import services, tasks
from messaging.models import Campaign, OutboxMessage, PhoneOptOut, SmsTemplate, sms_segments
from tests.clientmgmt.factories import ClientFactory, grant, withdraw
from zhongdu import sms
from zhongdu.models import AuditEvent

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status


def _message(status=Status.PENDING, key="k", client=None, **kwargs):
    message = services.outbox_enqueue(
        idempotency_key=key,
        client=client or ClientFactory(phone="13912345678"),
        body="明天9:30就诊",
        purpose=kwargs.pop("purpose", "booking_reminder"),
        **kwargs,
    )
    OutboxMessage.objects.filter(pk=message.pk).update(status=status)
    return message


def test_the_outbox_lists_and_filters_messages(client_manager_client):
    _message(Status.SENT, key="a")
    failed = _message(Status.FAILED, key="b", purpose="greeting")
    response = client_manager_client.get(reverse("messaging:outbox_list"), {"status": "failed"})
    assert [m.pk for m in response.context["page"].items] == [failed.pk]
    body = response.content.decode()
    assert "13912345678" not in body


def test_bad_filters_are_explained_not_crashed_on(client_manager_client):
    response = client_manager_client.get(
        reverse("messaging:outbox_list"), {"date": "someday", "client": "x", "before": "y"}
    )
    assert response.status_code == 200 and response.context["form"].errors


def test_the_outbox_page_runs_a_fixed_number_of_queries(
    client_manager_client, django_assert_max_num_queries
):
    for n in range(30):
        _message(key=f"k{n}", client=ClientFactory(phone=f"1390000{n:04d}"))
    client_manager_client.get(reverse("messaging:outbox_list"))
    # Session, user, roles, the messages with their clients, the user menu's count of unread
    # notifications: whatever the number of rows.
    with django_assert_max_num_queries(5):
        response = client_manager_client.get(reverse("messaging:outbox_list"))
    assert len(response.context["page"].items) == 30


def test_failures_and_unknowns_wait_for_attention(manager_client):
    _message(Status.SENT, key="a")
    failed = _message(Status.FAILED, key="b")
    unknown = _message(Status.UNKNOWN, key="c")
    response = manager_client.get(reverse("messaging:outbox_attention"))
    assert {m.pk for m in response.context["page"].items} == {failed.pk, unknown.pk}


def test_a_failed_message_is_sent_again_to_the_corrected_number(
    client_manager_client, django_capture_on_commit_callbacks
):
    person = ClientFactory(phone="13912345678")
    message = _message(Status.FAILED, client=person)
    Client.objects.filter(pk=person.pk).update(phone="+8613800001111")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client_manager_client.post(reverse("messaging:message_retry", args=[message.pk]))
    assert len(callbacks) == 1  # the send is queued once the change commits
    tasks.outbox_send.apply(args=[message.pk])
    message.refresh_from_db()
    assert message.to == "+8613800001111"
    assert message.status == Status.SENT
    assert sms.outbox[-1].to == "+8613800001111"
    assert message.events.filter(to_status="pending", actor__username="t_clientmgr").exists()


def test_an_unknown_message_is_marked_sent_after_checking(client_manager_client):
    message = _message(Status.UNKNOWN)
    client_manager_client.post(reverse("messaging:message_mark_sent", args=[message.pk]))
    assert OutboxMessage.objects.get(pk=message.pk).status == Status.SENT


def test_a_sent_message_cannot_be_sent_again(client_manager_client):
    message = _message(Status.SENT)
    response = client_manager_client.post(
        reverse("messaging:message_retry", args=[message.pk]),
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "Only a failed or unknown message" in response.content.decode()


def test_the_detail_page_shows_the_history_with_the_number_masked(manager_client):
    message = _message(Status.PENDING)
    body = manager_client.get(message.get_absolute_url()).content.decode()
    assert "139****5678" in body and "13912345678" not in body


def test_figures_count_by_day_and_purpose(manager_client):
    _message(Status.DELIVERED, key="a")
    _message(Status.FAILED, key="b")
    rows = manager_client.get(reverse("messaging:outbox_figures")).context["rows"]
    assert rows[0]["total"] == 2 and rows[0]["delivered"] == 1 and rows[0]["failed"] == 1


def test_the_client_timeline_shows_their_messages(front_desk_client):
    message = _message(Status.SENT)
    body = front_desk_client.get(message.client.get_absolute_url()).content.decode()
    assert "明天9:30就诊" in body


def test_front_desk_does_not_see_the_outbox(front_desk_client):
    assert front_desk_client.get(reverse("messaging:outbox_list")).status_code == 403


def test_a_template_with_an_unknown_placeholder_is_refused():
    template = SmsTemplate(code="t", purpose="greeting", body="您好{name}，{nonsense}")
    with pytest.raises(ValidationError, match="nonsense"):
        template.full_clean()


def test_the_admin_refuses_an_unknown_placeholder_and_previews_length(admin_client_):
    url = reverse("admin:messaging_smstemplate_add")
    response = admin_client_.post(
        url,
        {
            "code": "t",
            "language": "zh-hans",
            "purpose": "greeting",
            "kind": "service",
            "body": "{oops}",
        },
    )
    assert response.status_code == 200 and "oops" in response.content.decode()
    template = SmsTemplate.objects.create(
        code="g", purpose="greeting", body="{name}您好，" + "谢" * 80
    )
    page = admin_client_.get(reverse("admin:messaging_smstemplate_change", args=[template.pk]))
    assert "2" in page.content.decode()  # two SMS


def test_segments_are_70_characters_in_chinese():
    assert sms_segments("谢" * 70) == (70, 1)
    assert sms_segments("谢" * 71) == (71, 2)
    assert sms_segments("a" * 160) == (160, 1)
    assert sms_segments("a" * 161) == (161, 2)


def test_a_campaign_counts_its_recipients_then_builds_its_messages(
    client_manager_client, django_capture_on_commit_callbacks
):
    template = SmsTemplate.objects.create(
        code="tip", purpose="health_tip", kind="marketing", body="{name}您好，冬季注意保湿。"
    )
    agreed = [ClientFactory(name=f"客户{n}", phone=f"1390000{n:04d}") for n in range(3)]
    for person in agreed:
        grant(person, "marketing_sms")
    ClientFactory(name="未同意", phone="13911110000")  # no marketing consent
    PhoneOptOut.objects.create(phone=agreed[2].phone, source="sms")  # replied 退订
    send_at = (timezone.localtime() + datetime.timedelta(days=1)).strftime("%Y-%m-%dT10:00")
    form = {"name": "冬季护肤", "template": template.pk, "send_at": send_at}
    response = client_manager_client.post(reverse("messaging:campaign_create"), form)
    assert response.context["recipients"] == 2
    # Before anything is sent, the page says what will happen to each of the segment.
    breakdown = response.context["breakdown"]
    assert (breakdown["now"], breakdown["no_consent"], breakdown["opted_out"]) == (2, 1, 1)
    assert 'data-count="no_consent">1<' in response.content.decode()
    assert not Campaign.objects.exists()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_manager_client.post(
            reverse("messaging:campaign_create"), {**form, "confirm": "yes"}
        )
    campaign = Campaign.objects.get()
    assert response["Location"] == campaign.get_absolute_url()
    assert len(callbacks) == 1
    tasks.campaign_build.apply(args=[campaign.pk])
    tasks.campaign_build.apply(args=[campaign.pk])  # a redelivered task adds nothing
    campaign.refresh_from_db()
    assert campaign.status == "scheduled" and campaign.built == 2
    bodies = sorted(m.body for m in campaign.messages.all())
    assert bodies == ["客户0您好，冬季注意保湿。", "客户1您好，冬季注意保湿。"]
    page = client_manager_client.get(campaign.get_absolute_url())
    assert page.context["counts"]["pending"] == 2
    # Afterwards it counts outcomes, the suppressed by reason (consent withdrawn meanwhile:
    # its message is suppressed at once, not at its send time).
    withdraw(agreed[1], "marketing_sms")
    assert campaign.messages.get(client=agreed[1]).status == "suppressed"
    campaign.messages.update(send_after=timezone.now())
    for message in campaign.messages.all():
        tasks.outbox_send.apply(args=[message.pk])
    page = client_manager_client.get(campaign.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    outcomes = page.context["outcomes"]
    assert (outcomes["sent"], outcomes["suppressed"]) == (1, 1)
    assert outcomes["suppressed_by_reason"] == [("No consent to marketing SMS.", 1)]
    assert "No consent to marketing SMS. 1" in page.content.decode()


def test_a_campaign_in_the_past_is_refused(client_manager_client):
    template = SmsTemplate.objects.create(code="tip", purpose="health_tip", body="hi")
    response = client_manager_client.post(
        reverse("messaging:campaign_create"),
        {"name": "x", "template": template.pk, "send_at": "2020-01-01T10:00"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "has not passed" in response.content.decode()


def test_the_client_page_switches_sms_off_and_it_is_audited(front_desk_client):
    person = ClientFactory()
    url = reverse("clientmgmt:client_consent", args=[person.pk])
    front_desk_client.post(url, {"purpose": "service_sms", "answer": "withdraw"})
    assert has_consent(person, "service_sms") is False
    assert has_consent(person, "marketing_sms") is False
    audited = AuditEvent.objects.get(action="update", object_id=str(person.pk))
    assert "service_sms" in audited.changed_fields and audited.actor_username == "t_frontdesk"
    # how? not said: refused
    front_desk_client.post(url, {"purpose": "marketing_sms", "answer": "grant"})
    assert has_consent(person, "marketing_sms") is False
    # Marketing while all SMS are refused: refused too.
    front_desk_client.post(
        url, {"purpose": "marketing_sms", "answer": "grant", "method": "written"}
    )
    assert has_consent(person, "marketing_sms") is False
    front_desk_client.post(url, {"purpose": "service_sms", "answer": "grant", "method": "phone"})
    front_desk_client.post(
        url, {"purpose": "marketing_sms", "answer": "grant", "method": "written"}
    )
    assert has_consent(person, "service_sms") and has_consent(person, "marketing_sms")
    agreed = ConsentEvent.objects.filter(client=person, purpose="marketing_sms").get()
    assert agreed.recorded_by.username == "t_frontdesk" and agreed.method == "written"


def test_the_demo_templates_are_valid_and_idempotent():
    from demo.sms_templates import seed_templates

    # eight SMS (the portal's sign-in code and consultation answer among them), four voice (the
    # reminder, its key replies)
    assert seed_templates() == 12
    assert seed_templates() == 0
    for template in SmsTemplate.objects.all():
        template.full_clean()


def test_a_campaign_segment_picks_the_clients_who_visited_a_department():
    from messaging.selectors import campaign_recipients
    from tests.guide.factories import booked_today, checked_in

    # The front desk checks the booked client in (the booking arrives, the visit begins).
    visited = checked_in()
    booked_today(session=visited.session)  # booked, not (yet) arrived: not a visit
    segment = {"department": visited.session.department_id}
    assert list(campaign_recipients(segment, "service")) == [visited.client]
