"""The hospital's profile: versioned like the VIP rules, kept by administrators in the admin, and
read by everything a patient receives (SMS placeholders, slips, the public pages). A message
whose placeholder has no value is held in the outbox, never sent with a hole."""

import pytest
from django.urls import reverse

from demo.hospital import PROFILE, seed_hospital_profile
from messaging import services as messaging
from messaging.models import Kind, OutboxMessage, Purpose, SmsTemplate
from tests.conftest import ROLE_USERNAMES
from tests.consult.factories import make_booking
from tests.surveys.factories import finished_visit, invitation
from zhongdu import pdf, roles, sms
from zhongdu.models import AuditEvent, HospitalProfile
from zhongdu.services import hospital_profile_add

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}
PROFILE_ADD = reverse("admin:zhongdu_hospitalprofile_add")
REMINDER = "【{hospital}】{name}您好，提醒您明天{time}在{department}就诊，如需改期请致电{phone}。"


@pytest.fixture(autouse=True)
def _memory_sms(memory_sms):
    """Every test here: tests/conftest.py memory_sms."""


def _reminder_template():
    SmsTemplate.objects.create(
        code="booking_reminder", purpose=Purpose.BOOKING_REMINDER, kind=Kind.SERVICE, body=REMINDER
    )


def _reminder(booking):
    return OutboxMessage.objects.get(
        idempotency_key=f"booking:{booking.pk}:reminder:{booking.session_id}"
    )


# --- The profile and its versions ---------------------------------------------------


def test_an_empty_database_gets_a_profile_from_the_settings(settings):
    settings.HOSPITAL_PROFILE_DEFAULTS = {"display_name": "中都皮肤病医院", "hotline": ""}
    profile = HospitalProfile.current()
    assert profile.pk is not None
    assert (profile.name, profile.hotline) == ("中都皮肤病医院", "")
    assert profile.signature == "【中都皮肤病医院】"


def test_without_any_name_the_hospital_is_named_in_the_readers_language(settings):
    from django.utils import translation

    settings.HOSPITAL_PROFILE_DEFAULTS = {}
    # The reader's language, set here: a test client's last request leaves its own active.
    with translation.override("zh-hans"):
        assert HospitalProfile.current().name == "中都医院"
        assert pdf.hospital_name() == "中都医院"
    with translation.override("en"):
        assert HospitalProfile.current().name == "Zhongdu Hospital"


def test_each_change_is_a_new_version_and_the_old_one_stays():
    first = hospital_profile_add(by=None, **PROFILE)
    second = hospital_profile_add(by=None, hotline="0371-60000000", note="新热线")
    assert HospitalProfile.current() == second
    assert HospitalProfile.objects.count() == 2  # the first version added is version 1
    assert second.display_name == PROFILE["display_name"]  # what was not given is kept
    first.refresh_from_db()
    assert first.hotline == PROFILE["hotline"]
    with pytest.raises(HospitalProfile.Immutable):
        first.save()


def test_the_demo_profile_is_seeded_once():
    assert seed_hospital_profile() is True
    assert seed_hospital_profile() is False
    assert HospitalProfile.current().hotline == "0371-65588120"
    assert pdf.hospital_name() == "中都皮肤病医院"


# --- The admin ----------------------------------------------------------------------


def _profile_form(**overrides):
    form = {name: PROFILE[name] for name in PROFILE} | {"note": ""}
    return form | overrides


def test_the_add_form_starts_from_the_version_in_force(admin_client_):
    hospital_profile_add(by=None, **PROFILE)
    form = admin_client_.get(PROFILE_ADD).context["adminform"].form
    assert form.initial["hotline"] == PROFILE["hotline"]
    assert form.initial["address"] == PROFILE["address"]


def test_the_administrator_adds_a_version_which_is_audited(admin_client_):
    hospital_profile_add(by=None, **PROFILE)
    response = admin_client_.post(
        PROFILE_ADD, _profile_form(hotline="0371-61112222", note="热线变更"), **EN
    )
    assert response.status_code == 302
    profile = HospitalProfile.current()
    assert (profile.hotline, profile.note) == ("0371-61112222", "热线变更")
    assert profile.created_by.get_username() == ROLE_USERNAMES[roles.ADMINISTRATOR]
    assert HospitalProfile.objects.count() == 2
    assert AuditEvent.objects.filter(
        action="create", object_type="zhongdu.hospitalprofile", actor=profile.created_by
    ).exists()


def test_a_version_cannot_be_changed_or_deleted_in_the_admin(admin_client_):
    profile = hospital_profile_add(by=None, **PROFILE)
    change = reverse("admin:zhongdu_hospitalprofile_change", args=[profile.pk])
    admin_client_.post(change, _profile_form(hotline="0"))
    profile.refresh_from_db()
    assert profile.hotline == PROFILE["hotline"]
    delete = reverse("admin:zhongdu_hospitalprofile_delete", args=[profile.pk])
    assert admin_client_.post(delete, {"post": "yes"}).status_code == 403
    assert HospitalProfile.objects.filter(pk=profile.pk).exists()


def test_only_administrators_reach_the_profile_admin(client_for):
    assert client_for(roles.FRONT_DESK).get(PROFILE_ADD).status_code in (302, 403)


# --- SMS templates ------------------------------------------------------------------


@pytest.mark.parametrize(("headers", "words"), [(ZH, "未知占位符"), (EN, "Unknown placeholder")])
def test_saving_a_template_with_an_unknown_placeholder_lists_the_known_ones(
    admin_client_, headers, words
):
    response = admin_client_.post(
        reverse("admin:messaging_smstemplate_add"),
        {
            "code": "t",
            "language": "zh-hans",
            "purpose": "greeting",
            "kind": "service",
            "body": "【{hospital}】请致电{hotlne}",
        },
        **headers,
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert words in body and "{hotlne}" in body
    assert "{hotline}" in body and "{address}" in body and "{phone}" in body
    assert not SmsTemplate.objects.exists()


def test_a_template_may_name_the_profiles_values():
    template = SmsTemplate(
        code="t", purpose="greeting", body="{signature}{hospital}{hotline}{address}{website}"
    )
    template.full_clean()


def test_the_booking_reminder_carries_the_hotline_and_the_name_patients_see():
    hospital_profile_add(by=None, **PROFILE)
    _reminder_template()
    reminder = _reminder(make_booking())
    assert reminder.status == "pending"
    assert reminder.body.startswith("【中都皮肤病医院】")
    assert reminder.body.endswith("如需改期请致电0371-65588120。")


def test_a_reminder_without_a_hotline_is_held_with_the_reason_and_never_sent(settings):
    settings.HOSPITAL_PROFILE_DEFAULTS = {"display_name": "中都皮肤病医院", "hotline": ""}
    _reminder_template()
    reminder = _reminder(make_booking())
    assert reminder.status == "suppressed"
    assert "{phone}" in reminder.body  # the hole is visible, not blank
    assert "{phone}" in reminder.error_text
    assert reminder.events.order_by("pk").last().detail == reminder.error_text
    assert messaging.outbox_send(message_id=reminder.pk) is None
    assert sms.outbox == []


def test_a_senders_empty_value_holds_the_message_too():
    hospital_profile_add(by=None, **PROFILE)
    SmsTemplate.objects.create(
        code="greeting", purpose=Purpose.GREETING, kind=Kind.SERVICE, body="{name}您好，{text}"
    )
    message = messaging.outbox_enqueue(
        idempotency_key="x",
        purpose=Purpose.GREETING,
        to="+8613900001111",
        template_code="greeting",
        values={"name": "王小红", "text": ""},
    )
    assert message.status == "suppressed" and "{text}" in message.error_text


# --- Pages patients see ---------------------------------------------------------------


def test_the_public_booking_page_shows_the_hospital_and_how_to_reach_it(client):
    hospital_profile_add(by=None, **PROFILE)
    body = client.get(reverse("consult:public_book"), **ZH).content.decode()
    assert "中都皮肤病医院" in body
    assert PROFILE["address"] in body and PROFILE["hotline"] in body
    assert 'data-testid="privacy-notice"' in body and PROFILE["privacy_notice"] in body
    assert f"隐私声明 ({PROFILE['privacy_notice_version']})" in body


def test_a_page_without_a_privacy_notice_shows_none(client, settings):
    settings.HOSPITAL_PROFILE_DEFAULTS = {"display_name": "中都皮肤病医院"}
    body = client.get(reverse("consult:public_book"), **ZH).content.decode()
    assert "中都皮肤病医院" in body and 'data-testid="privacy-notice"' not in body


def test_the_survey_page_shows_the_name_patients_see(client):
    hospital_profile_add(by=None, **PROFILE)
    made = invitation()
    body = client.get(reverse("survey", args=[made.token]), **ZH).content.decode()
    assert 'data-testid="hospital-name">中都皮肤病医院<' in body
    assert PROFILE["hotline"] in body and PROFILE["privacy_notice"] in body


def test_the_visit_slip_names_the_hospital_and_its_hotline(front_desk_client):
    hospital_profile_add(by=None, **PROFILE)
    visit = finished_visit()
    body = front_desk_client.get(
        reverse("followup:visit_slip", args=[visit.pk]), **ZH
    ).content.decode()
    assert 'data-testid="slip-hospital">中都皮肤病医院<' in body
    assert PROFILE["hotline"] in body and PROFILE["address"] in body
