"""Signing in to the portal with a one-time SMS code: the code's SMS (the verification type, at
once, whatever the quiet hours), the page that answers alike for anyone, and the code attacked
(reuse, expiry, guessing, another person's number) without success."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from messaging.models import Kind, OutboxMessage, Purpose
from portal.models import PatientSession, SignInCode
from tests.clientmgmt.factories import ClientFactory
from zhongdu import sms
from zhongdu.models import AuditEvent

from .conftest import E164, PHONE, ask_code, enter_code, send_codes, sign_in

LOGIN = reverse("portal:login")
CODE = reverse("portal:login_code")
HOME = reverse("portal:home")
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def test_a_client_signs_in_with_the_code_sent_by_sms(client, patient):
    asked = ask_code(client)
    assert asked.status_code == 302 and asked["Location"].startswith(CODE)
    message = OutboxMessage.objects.get()
    assert message.kind == Kind.VERIFICATION and message.purpose == Purpose.SIGN_IN_CODE
    assert message.to == E164 and message.client is None
    (code,) = send_codes()
    # The SMS holds the code and the hospital's name, nothing of the person or their health.
    body = sms.outbox[0].body
    assert code in body and "李娜" not in body
    page = client.get(CODE)
    assert "138****5678" in page.content.decode()
    answer = enter_code(client, code)
    assert answer.status_code == 302 and answer["Location"] == HOME
    home = client.get(HOME)
    assert home.status_code == 200 and "李娜" in home.content.decode()
    assert PatientSession.objects.get().client == patient
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.LOGIN,
        object_id=str(patient.pk),
        actor_username=f"portal:{patient.pk}",
    ).exists()


def test_the_code_goes_at_once_in_quiet_hours(client, patient, settings):
    settings.SMS_QUIET_START_HOUR, settings.SMS_QUIET_END_HOUR = 0, 23  # nearly all day quiet
    ask_code(client)
    assert len(send_codes()) == 1
    assert OutboxMessage.objects.get().status == "sent"


def test_the_code_goes_to_a_number_that_opted_out_of_notices(client, patient):
    from messaging.models import PhoneOptOut

    PhoneOptOut.objects.create(phone=E164)
    ask_code(client)
    assert len(send_codes()) == 1


def _same_page(page, number):
    """The page with what differs by design taken out: the number typed (the person's own) and
    the CSRF token (masked afresh on every page)."""
    text = page.content.decode().replace(number, "N").replace(f"{number[:3]}****{number[-4:]}", "M")
    text = text.replace("+86N", "N")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)


def test_the_page_answers_alike_for_a_number_that_is_no_clients(client, patient):
    theirs = ask_code(client)
    stranger = client.__class__()
    other = ask_code(stranger, "13900001111")
    assert other.status_code == theirs.status_code == 302
    assert other["Location"] == theirs["Location"]
    page_theirs, page_other = client.get(CODE), stranger.get(CODE)
    assert page_other.status_code == page_theirs.status_code == 200
    assert _same_page(page_theirs, PHONE) == _same_page(page_other, "13900001111")
    # No SMS for the stranger's number; any code they try is wrong, as a client's wrong code is.
    assert OutboxMessage.objects.filter(to="+8613900001111").count() == 0
    wrong = enter_code(stranger, "123456", **EN)
    assert wrong.status_code == 422 and "The code is not right" in wrong.content.decode()
    assert SignInCode.objects.filter(phone="+8613900001111", sent=False).count() == 1


def test_a_code_works_once(client, patient):
    ask_code(client)
    (code,) = send_codes()
    assert enter_code(client, code).status_code == 302
    client.post(reverse("portal:logout"))
    # The same code again, from another browser that kept the pending cookie.
    again = enter_code(client, code, **EN)
    assert again.status_code in (302, 422)
    assert PatientSession.objects.count() == 1


def test_a_used_code_is_refused_with_the_same_pending_cookie(client, patient):
    ask_code(client)
    (code,) = send_codes()
    pending = client.cookies["zd_my_code"].value
    assert enter_code(client, code).status_code == 302
    other = client.__class__()
    other.cookies["zd_my_code"] = pending
    other.cookies["zd_my_code"]["path"] = "/my/"
    reused = enter_code(other, code, **EN)
    assert reused.status_code == 422 and "expired or was used" in reused.content.decode()
    assert PatientSession.objects.count() == 1


def test_an_expired_code_is_refused(client, patient, settings):
    ask_code(client)
    (code,) = send_codes()
    SignInCode.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    answer = enter_code(client, code, **EN)
    assert answer.status_code == 422 and "expired" in answer.content.decode()
    assert not PatientSession.objects.exists()


def test_the_code_message_expires_with_the_code(client, patient):
    ask_code(client)
    message = OutboxMessage.objects.get()
    assert message.expires_at == SignInCode.objects.get().expires_at


def test_guessing_kills_the_code_after_five_wrong_entries(client, patient, settings):
    ask_code(client)
    (code,) = send_codes()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(settings.PORTAL_CODE_ATTEMPTS):
        assert enter_code(client, wrong).status_code == 422
    # Even the right code now fails: the guesser cannot keep trying.
    answer = enter_code(client, code, **EN)
    assert answer.status_code == 422 and "Too many wrong entries" in answer.content.decode()
    assert not PatientSession.objects.exists()


def test_wrong_codes_lock_the_number_for_the_hour(client, patient, settings):
    settings.PORTAL_CODE_RESEND_SECONDS = 0
    settings.PORTAL_CODES_PER_NUMBER = 100
    failures = 0
    while failures < settings.PORTAL_FAILURES_PER_NUMBER:
        sms.clear()
        ask_code(client)
        (code,) = send_codes()
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(
            min(settings.PORTAL_CODE_ATTEMPTS, settings.PORTAL_FAILURES_PER_NUMBER - failures)
        ):
            enter_code(client, wrong)
            failures += 1
    sms.clear()
    refused = ask_code(client, **EN)
    assert refused.status_code == 429 and "locked for an hour" in refused.content.decode()
    assert send_codes() == []


def test_wrong_codes_from_one_address_lock_it_for_every_number(client, db, memory_sms, settings):
    settings.PORTAL_FAILURES_PER_ADDRESS = 3
    numbers = [f"1390000{n:04d}" for n in range(4)]
    for number in numbers[:3]:
        ClientFactory(phone="+86" + number)
        ask_code(client, number)
        enter_code(client, "000000")
    refused = ask_code(client, numbers[3], **EN)
    assert refused.status_code == 429 and "locked" in refused.content.decode()


def test_a_code_is_not_asked_twice_within_a_minute(client, patient):
    ask_code(client)
    again = ask_code(client, **EN)
    assert again.status_code == 429 and "wait a minute" in again.content.decode()
    assert SignInCode.objects.count() == 1 and OutboxMessage.objects.count() == 1


def test_a_number_asks_for_at_most_five_codes_an_hour(client, patient, settings):
    settings.PORTAL_CODE_RESEND_SECONDS = 0
    for _ in range(settings.PORTAL_CODES_PER_NUMBER):
        assert ask_code(client).status_code == 302
    assert ask_code(client).status_code == 429
    assert SignInCode.objects.count() == settings.PORTAL_CODES_PER_NUMBER


def test_one_address_asks_for_at_most_twenty_codes_an_hour(client, db, memory_sms, settings):
    for n in range(settings.PORTAL_CODES_PER_ADDRESS):
        assert ask_code(client, f"1370000{n:04d}").status_code == 302
    assert ask_code(client, "13799999999").status_code == 429


def test_anothers_code_does_not_open_my_number(client, patient):
    """The attacker asks for a code for the victim's number and one for their own: their own
    code, entered against the victim's pending code, fails; the pending cookie cannot be
    forged to point at another code."""
    ClientFactory(name="攻击者", phone="+8613700000001")
    attacker = client.__class__()
    ask_code(attacker, "13700000001")
    (own_code,) = send_codes()
    sms.clear()
    ask_code(attacker, PHONE)  # the victim's number: the SMS goes to the victim
    assert enter_code(attacker, own_code).status_code == 422
    attacker.cookies["zd_my_code"] = "forged"
    assert attacker.get(CODE).status_code == 302  # back to the start
    assert not PatientSession.objects.exists()


@pytest.mark.parametrize("typed", ["", "12345", "abcdef", "1234567", "12\x0034"])
def test_a_malformed_code_gets_a_clear_message(client, patient, typed):
    ask_code(client)
    answer = enter_code(client, typed, **EN)
    assert answer.status_code in (400, 422)
    assert SignInCode.objects.get().failures == 0


@pytest.mark.parametrize(
    "typed", ["", "12345", "0371-6666 8888", "not a number", "+86 138 1234 567"]
)
def test_a_wrong_number_gets_a_clear_message(client, db, typed):
    answer = ask_code(client, typed, **EN)
    assert answer.status_code == 422
    assert "valid mobile number" in answer.content.decode() or "required" in answer.content.decode()
    assert not SignInCode.objects.exists()


def test_the_code_page_without_a_code_asked_goes_back_to_the_start(client, db):
    answer = client.get(CODE)
    assert answer.status_code == 302 and answer["Location"] == LOGIN


def test_the_pages_speak_chinese_by_default_and_english_on_request(client, db):
    assert "获取验证码" in client.get(LOGIN).content.decode()
    assert "Send me a code" in client.get(LOGIN, **EN).content.decode()


def test_signing_out_ends_the_session(signed_in):
    assert signed_in.get(HOME).status_code == 200
    signed_in.post(reverse("portal:logout"))
    assert PatientSession.objects.get().ended_at is not None
    assert signed_in.get(HOME).status_code == 302


def test_a_session_idle_too_long_is_signed_out(signed_in, settings):
    PatientSession.objects.update(
        last_seen_at=timezone.now()
        - datetime.timedelta(minutes=settings.PORTAL_IDLE_TIMEOUT_MINUTES)
    )
    answer = signed_in.get(HOME)
    assert answer.status_code == 302 and "lapsed=1" in answer["Location"]
    assert PatientSession.objects.get().ended_at is not None


def test_a_session_ends_after_its_lifetime_however_busy(signed_in, settings):
    PatientSession.objects.update(
        started_at=timezone.now() - datetime.timedelta(hours=settings.PORTAL_SESSION_LIFETIME_HOURS)
    )
    assert signed_in.get(HOME).status_code == 302


def test_the_session_cookie_is_the_portals_own(signed_in):
    cookie = signed_in.cookies["zd_my"]
    assert cookie["path"] == "/my/" and cookie["httponly"]
    assert "sessionid" not in signed_in.cookies or not signed_in.cookies["sessionid"].value


def test_a_staff_user_is_sent_to_the_portals_sign_in(client_for):
    staff = client_for("consultant")
    answer = staff.get(HOME)
    assert answer.status_code == 302 and answer["Location"].startswith(LOGIN)


def test_the_home_page_keeps_a_fixed_query_count(signed_in, django_assert_max_num_queries):
    signed_in.get(HOME)
    with django_assert_max_num_queries(7):  # tests/portal/test_query_counts.py says which
        assert signed_in.get(HOME).status_code == 200


def test_staff_never_read_a_sign_in_code_in_the_outbox(client, patient, client_for):
    ask_code(client)
    (code,) = send_codes()
    message = OutboxMessage.objects.get()
    watcher = client_for("client_manager")
    for url in (
        reverse("messaging:outbox_list"),
        reverse("messaging:message_detail", args=[message.pk]),
    ):
        page = watcher.get(url)
        assert page.status_code == 200 and code not in page.content.decode()


def test_a_child_on_the_parents_mobile_does_not_sign_in_in_the_parents_place(client, patient):
    from portal.services import dependant_authorise, portal_client_for_phone
    from tests.factories import UserFactory

    child = ClientFactory(name="李小宝", phone=E164)
    assert portal_client_for_phone(E164) is None  # two records hold the number
    dependant_authorise(
        holder=patient, dependant=child, relation="子女", evidence="出生证明", by=UserFactory()
    )
    assert portal_client_for_phone(E164) == patient


def test_an_adult_dependant_with_their_own_mobile_still_signs_in(client, patient):
    from portal.services import dependant_authorise
    from tests.factories import UserFactory

    mother = ClientFactory(name="王秀英", phone="+8613700000009")
    dependant_authorise(
        holder=patient, dependant=mother, relation="母亲", evidence="授权委托书", by=UserFactory()
    )
    sign_in(client, "13700000009")
    assert PatientSession.objects.get().client == mother


def test_a_dependants_merged_record_takes_the_pages_back_to_the_persons_own(signed_in, patient):
    from clientmgmt.models import Client
    from portal.services import dependant_authorise
    from tests.factories import UserFactory

    child = ClientFactory(name="李小宝", phone="")
    dependant_authorise(
        holder=patient, dependant=child, relation="子女", evidence="出生证明", by=UserFactory()
    )
    signed_in.post(reverse("portal:switch"), {"subject": child.pk})
    assert PatientSession.objects.get().subject == child
    Client.objects.filter(pk=child.pk).update(status=Client.Status.ARCHIVED)
    assert signed_in.get(HOME).status_code == 200
    assert PatientSession.objects.get().subject == patient
