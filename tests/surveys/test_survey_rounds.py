"""Market survey rounds (市场调查): a market survey sent to a segment through its pages, the
invitations written by the real task code and sent through the outbox with the memory SMS backend
(those who agreed to marketing SMS only, each once), answers given on the public survey page,
the results question by question and the workbook; the form's errors; who may do what."""

import datetime
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from clientmgmt.models import Client
from messaging import rules
from messaging import tasks as messaging_tasks
from messaging.models import Kind, OutboxMessage, Purpose, SmsRoutePolicy, SmsTemplate
from surveys import selectors as survey_selectors
from surveys import services as survey_rounds
from surveys import services as surveys
from surveys import tasks
from surveys.models import (
    Dimension,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveyRound,
    SurveyTemplate,
)
from tests.clientmgmt.factories import ClientFactory, grant, withdraw
from tests.surveys.factories import answered, satisfaction_survey, survey_sms_templates
from zhongdu import sms
from zhongdu.models import AuditEvent

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
LIST = reverse("surveys:round_list")
NEW = reverse("surveys:round_new")
Type = SurveyQuestion.Type


@pytest.fixture(autouse=True)
def _memory_sms(memory_sms, settings):
    settings.PUBLIC_BASE_URL = "https://zhongdu.example"


@pytest.fixture
def market_sms(db):
    return SmsTemplate.objects.create(
        code="market_survey",
        purpose=Purpose.SURVEY,
        kind=Kind.MARKETING,
        body="【{hospital}】{name}您好，诚邀您填写问卷：{link} 回复TD退订",
    )


@pytest.fixture
def market(db):
    template = SurveyTemplate.objects.create(
        code="market", name="市场调查", name_en="Market survey", kind=SurveyTemplate.Kind.MARKET
    )
    questions = [
        (Type.CHOICE, "您是通过什么途径了解到我院的？", "How did you hear of us?",
         "亲友介绍|Friends or family\n网络搜索|Internet search\n其他|Other"),
        (Type.SCALE, "您对我院的价格满意吗？", "Are you satisfied with our prices?", ""),
        (Type.TEXT, "您希望我们增加哪些服务？", "What services would you like us to add?", ""),
    ]  # fmt: skip
    for order, (kind, text, text_en, choices) in enumerate(questions):
        SurveyQuestion.objects.create(
            template=template,
            order=order,
            type=kind,
            text=text,
            text_en=text_en,
            choices=choices,
            dimension=Dimension.OTHER,
            required=False,
        )
    return template


def opted_in(**kwargs):
    client = ClientFactory(**kwargs)
    grant(client, "marketing_sms")
    return client


def _clerk():
    return get_user_model().objects.get_or_create(username="round_clerk")[0]


def _body(response):
    return response.content.decode()


def _form(template, **fields):
    send_at = timezone.localtime() + datetime.timedelta(hours=1)
    return {
        "name": "冬季需求调查",
        "template": template.pk,
        "send_at": send_at.strftime("%Y-%m-%dT%H:%M"),
        **fields,
    }


def send(survey_round):
    """What the worker does: the job until it is done, then each message's send."""
    while not tasks.survey_round_send.apply(args=[survey_round.pk]).get():
        pass
    for message in OutboxMessage.objects.filter(
        idempotency_key__startswith=f"survey-round:{survey_round.pk}:"
    ):
        OutboxMessage.objects.filter(pk=message.pk).update(send_after=timezone.now())
        messaging_tasks.outbox_send.apply(args=[message.pk])
    survey_round.refresh_from_db()


def make_round(template, by, segment=None):
    return survey_rounds.round_create(
        name="冬季需求调查",
        template=template,
        segment=segment or {},
        send_at=timezone.now(),
        by=by,
    )


# --- Sending ----------------------------------------------------------------------------


def test_a_round_asks_the_segment_who_agreed_once_each_through_the_outbox(
    client_manager_client, market, market_sms, django_capture_on_commit_callbacks
):
    member = opted_in(name="李娜", is_member=True)
    opted_in(name="张病人", is_patient=True, is_member=False)  # not in the segment
    ClientFactory(name="王芳", is_member=True)  # in it, but no marketing consent
    form = _form(market, categories=["is_member"])
    counted = client_manager_client.post(NEW, form, **EN)
    assert "1 client will be asked, after consent and opt-out rules." in _body(counted)
    # The breakdown before the send: one will receive it, one has no marketing consent.
    breakdown = counted.context["breakdown"]
    assert (breakdown["now"], breakdown["no_consent"], breakdown["total"]) == (1, 1, 2)
    assert "Not sent: no consent to marketing SMS" in _body(counted)
    assert not SurveyRound.objects.exists()  # counting creates nothing
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        page = client_manager_client.post(NEW, {**form, "confirm": "yes"}, **EN)
    survey_round = SurveyRound.objects.get()
    assert page.status_code == 302 and page["Location"] == survey_round.get_absolute_url()
    assert len(callbacks) == 1  # the job is queued when the click commits
    assert survey_round.total == 1 and survey_round.segment["categories"] == ["is_member"]
    assert AuditEvent.objects.filter(action="create", object_id=str(survey_round.pk)).exists()
    send(survey_round)
    invitation = SurveyInvitation.objects.get()
    assert (invitation.client, invitation.round, invitation.template) == (
        member,
        survey_round,
        market,
    )
    assert invitation.channel == SurveyInvitation.Channel.CAMPAIGN
    assert invitation.expires_at == survey_round.expires_at
    assert survey_round.expires_at - survey_round.send_at == datetime.timedelta(days=14)
    message = OutboxMessage.objects.get()
    assert (message.kind, message.purpose, message.status) == (
        Kind.MARKETING,
        Purpose.SURVEY,
        OutboxMessage.Status.SENT,
    )
    assert [m.to for m in sms.outbox] == [member.phone]
    assert f"https://zhongdu.example/s/{invitation.token}/" in sms.outbox[0].body
    assert (survey_round.invited, survey_round.no_link, survey_round.percent_done) == (1, 0, 100)
    # A redelivered job asks nobody twice.
    assert tasks.survey_round_send.apply(args=[survey_round.pk]).get() is True
    assert SurveyInvitation.objects.count() == 1 and OutboxMessage.objects.count() == 1


def test_the_outbox_still_refuses_a_client_who_withdrew_consent_before_the_send(market, market_sms):
    client = opted_in()
    survey_round = make_round(market, by=_clerk())
    survey_rounds.round_send(round_id=survey_round.pk)
    withdraw(client, "marketing_sms")
    message = OutboxMessage.objects.get()
    messaging_tasks.outbox_send.apply(args=[message.pk])
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SUPPRESSED and sms.outbox == []
    # The round's page counts the outcome by reason, not the attempt.
    outcomes = survey_selectors.round_outcomes(survey_round)
    assert (outcomes["sent"], outcomes["suppressed"]) == (0, 1)
    assert outcomes["suppressed_by_reason"] == [(str(rules.BLOCK_REASONS["no_consent"]), 1)]


def test_numbers_that_cannot_receive_links_are_counted_not_sent(market, market_sms, settings):
    opted_in(phone="13800138000")  # mainland: Twilio refuses links to it
    abroad = opted_in(phone="+85291234567")
    survey_round = make_round(market, by=_clerk())
    # Mainland numbers through Twilio: only on the cross-border route an administrator enabled.
    settings.SMS_ROUTES = {"cn": "twilio", "other": "twilio"}
    SmsRoutePolicy.objects.create(mainland_via_twilio=True, legal_basis="Separate consent")
    survey_rounds.round_send(round_id=survey_round.pk)
    survey_round.refresh_from_db()
    assert (survey_round.invited, survey_round.no_link) == (1, 1)
    assert [i.client for i in SurveyInvitation.objects.all()] == [abroad]


def test_the_job_works_in_bounded_batches_and_a_stalled_one_is_resumed(
    market, market_sms, django_capture_on_commit_callbacks
):
    clients = [opted_in() for _n in range(5)]
    survey_round = make_round(market, by=_clerk())
    assert survey_rounds.round_send(round_id=survey_round.pk, batch=2, batches=1) is False
    survey_round.refresh_from_db()
    assert survey_round.invited == 2 and survey_round.sending_after == clients[1].pk
    assert survey_round.percent_done == 40
    # Beat's sweep leaves a round that moves alone, and queues one that stopped, once.
    assert survey_rounds.rounds_resume() == 0
    later = timezone.now() + survey_rounds.STALLED_AFTER + datetime.timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert survey_rounds.rounds_resume(now=later) == 1
        assert survey_rounds.rounds_resume(now=later) == 0
    assert len(callbacks) == 1
    while not survey_rounds.round_send(round_id=survey_round.pk, batch=2, batches=1):
        pass
    survey_round.refresh_from_db()
    assert survey_round.invited == 5 and survey_round.done_at is not None
    assert survey_rounds.rounds_resume(now=later + datetime.timedelta(hours=1)) == 0


def test_a_market_round_gets_no_reminder(market, market_sms):
    survey_sms_templates()
    opted_in()
    survey_round = make_round(market, by=_clerk())
    survey_rounds.round_send(round_id=survey_round.pk)
    later = timezone.now() + datetime.timedelta(days=5)
    assert surveys.surveys_remind(now=later) == 0
    assert SurveyInvitation.objects.get().reminded_at is None


# --- The form ---------------------------------------------------------------------------


def test_the_form_explains_what_is_wrong_in_chinese_and_english(
    client_manager_client, market, market_sms
):
    satisfaction = satisfaction_survey()
    opted_in()
    past = (timezone.localtime() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    bad = {"name": "", "template": satisfaction.pk, "send_at": past, "visited_within_days": "0"}
    english = client_manager_client.post(NEW, bad, **EN)
    assert english.status_code == 422
    body = _body(english)
    assert "This field is required." in body
    assert "Choose one of the market surveys offered." in body
    assert "Choose a time that has not passed." in body
    assert "Ensure this value is greater than or equal to 1." in body
    chinese = _body(client_manager_client.post(NEW, bad, **ZH))
    assert "请选择尚未过去的时间。" in chinese
    assert "请从提供的市场调查中选择一项。" in chinese
    # What was typed is kept.
    assert 'value="0"' in body
    assert not SurveyRound.objects.exists()
    # The survey offered are the market ones only.
    options = re.findall(r'<option value="(\d+)"', _body(client_manager_client.get(NEW)))
    assert options == [str(market.pk)]


def test_an_empty_segment_says_so_and_sends_nothing(client_manager_client, market, market_sms):
    ClientFactory(is_member=True)  # no consent
    form = _form(market, categories=["is_member"])
    page = client_manager_client.post(NEW, form, **EN)
    assert "0 clients will be asked" in _body(page)
    assert "Widen the segment" in _body(page)
    assert 'data-testid="confirm"' not in _body(page)
    client_manager_client.post(NEW, {**form, "confirm": "yes"}, **EN)
    assert not SurveyRound.objects.exists()


def test_without_the_sms_template_the_form_says_what_is_missing(client_manager_client, market):
    opted_in()
    page = client_manager_client.post(NEW, {**_form(market), "confirm": "yes"}, **EN)
    assert page.status_code == 422
    assert (
        "There is no active SMS template “Market survey invitation”: an administrator adds it "
        "under SMS templates." in _body(page)
    )
    assert "market_survey" not in _body(page)  # the senders' key, not a word for staff
    assert not SurveyRound.objects.exists()


# --- Answers and results --------------------------------------------------------------


def test_answers_on_the_survey_page_show_question_by_question(
    client, client_manager_client, market, market_sms
):
    for _n in range(4):
        opted_in()
    survey_round = make_round(market, by=_clerk())
    send(survey_round)
    choice, scale, text = market.questions.all()
    invitations = list(survey_round.invitations.order_by("pk"))
    given = [("亲友介绍", "5", "周末门诊"), ("亲友介绍", "2", ""), ("网络搜索", "4", "线上复诊")]
    for invitation, (heard, price, wish) in zip(invitations, given, strict=False):
        page = client.post(
            reverse("survey", args=[invitation.token]),
            {f"q{choice.pk}": heard, f"q{scale.pk}": price, f"q{text.pk}": wish},
            **ZH,
        )
        assert page.status_code == 302
    assert SurveyResponse.objects.filter(invitation__round=survey_round).count() == 3
    page = client_manager_client.get(survey_round.get_absolute_url(), **EN)
    body = _body(page)
    assert "3 clients answered (75% of those invited)" in body
    results = page.context["results"]["questions"]
    assert [(b["label"], b["count"], b["percent"]) for b in results[0]["bars"]] == [
        ("Friends or family", 2, 67),
        ("Internet search", 1, 33),
        ("Other", 0, 0),
    ]
    assert results[1]["average"] == pytest.approx(11 / 3)
    assert [b["count"] for b in results[1]["bars"]] == [0, 1, 0, 1, 1]
    assert results[2]["count"] == 2 and set(results[2]["texts"]) == {"周末门诊", "线上复诊"}
    assert "How did you hear of us?" in body and "线上复诊" in body
    # Not in the satisfaction figures: market surveys ask other things.
    assert not survey_selectors.satisfaction_responses().exists()


def test_the_weekly_satisfaction_summary_leaves_the_round_out(
    client_manager_client, market, market_sms
):
    answered(score=5)
    opted_in()
    survey_round = make_round(market, by=_clerk())
    send(survey_round)
    surveys.survey_submit(invitation=survey_round.invitations.get(), answers={})
    summary = client_manager_client.get(reverse("surveys:weekly")).context["summary"]
    assert summary["counts"]["total"] == 1


def test_the_workbook_has_every_answer_and_no_names(client_manager_client, market, market_sms):
    opted_in(name="李娜")
    survey_round = make_round(market, by=_clerk())
    send(survey_round)
    choice, scale, text = market.questions.all()
    surveys.survey_submit(
        invitation=survey_round.invitations.get(),
        answers={choice.pk: "其他", scale.pk: "3", text.pk: "=HYPERLINK(1)"},
    )
    response = client_manager_client.get(
        reverse("surveys:round_export", args=[survey_round.pk]), **EN
    )
    assert response["Content-Disposition"].endswith(f'market-survey-{survey_round.pk}.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content))["Answers"]
    rows = list(sheet.values)
    assert rows[0][2:] == (
        "How did you hear of us?",
        "Are you satisfied with our prices?",
        "What services would you like us to add?",
    )
    assert rows[1][2:] == ("其他", 3, "=HYPERLINK(1)")
    assert sheet.cell(row=2, column=5).data_type == "s"  # text, not a formula
    assert "李娜" not in str(rows)
    assert AuditEvent.objects.filter(action="export", object_id=str(survey_round.pk)).exists()


def test_the_page_polls_while_sending_and_shows_an_empty_state(
    client_manager_client, market, market_sms
):
    opted_in()
    survey_round = make_round(market, by=_clerk())
    page = _body(client_manager_client.get(survey_round.get_absolute_url(), **EN))
    assert 'hx-trigger="every 2s"' in page and "Writing invitations" in page
    assert "No answers yet." in page
    fragment = client_manager_client.get(survey_round.get_absolute_url(), HTTP_HX_REQUEST="true")
    assert 'id="round-progress"' in _body(fragment) and "<html" not in _body(fragment)
    send(survey_round)
    page = _body(client_manager_client.get(survey_round.get_absolute_url(), **EN))
    assert "hx-trigger" not in page and "1 of 1 clients invited" in page
    assert "Market survey ·" in page  # the survey's English name, in English
    listing = _body(client_manager_client.get(LIST, **EN))
    assert "冬季需求调查" in listing and "Invitations written" in listing
    assert "<td>Market survey</td>" in listing


def test_the_list_has_an_empty_state(client_manager_client):
    page = _body(client_manager_client.get(LIST, **EN))
    assert "No market survey has been sent yet." in page
    assert 'data-testid="round-new"' in page


# --- Who may -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "read", "send"),
    [
        ("client_manager", 200, 200),
        ("administrator", 200, 200),
        ("manager", 200, 403),
        ("vip_manager", 200, 403),
        ("front_desk", 403, 403),
        ("consultant", 403, 403),
    ],
)
def test_who_may_read_and_send(client_for, market, market_sms, role, read, send):
    survey_round = make_round(market, by=_clerk())
    browser = client_for(role)
    assert browser.get(LIST).status_code == read
    assert browser.get(survey_round.get_absolute_url()).status_code == read
    export = reverse("surveys:round_export", args=[survey_round.pk])
    assert browser.get(export).status_code == read
    assert browser.get(NEW).status_code == send
    if read == 200:
        assert ('data-testid="round-new"' in _body(browser.get(LIST))) == (send == 200)


def test_the_demo_round_has_answers(market_sms):
    from demo.surveys import seed_market_round, seed_surveys

    seed_surveys()
    for _n in range(8):
        opted_in(is_member=True)
    made = seed_market_round(by=_clerk())
    assert made == {"rounds": 1, "invited": 8, "answered": 6}
    assert seed_market_round(by=_clerk())["rounds"] == 0  # idempotent
    assert Client.objects.filter(survey_responses__invitation__round__isnull=False).count() == 6


def test_a_second_click_on_confirm_asks_the_segment_once(
    client_manager_client, market, market_sms, django_capture_on_commit_callbacks
):
    opted_in()
    page = _body(client_manager_client.get(NEW))
    key = re.search(r'name="key" value="([0-9a-f]{32})"', page).group(1)
    form = {**_form(market), "key": key, "confirm": "yes"}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = client_manager_client.post(NEW, form)
        second = client_manager_client.post(NEW, form)
    assert SurveyRound.objects.count() == 1 and len(callbacks) == 1
    assert first["Location"] == second["Location"] == SurveyRound.objects.get().get_absolute_url()
    # A fresh form is a fresh key: a second round on purpose is possible.
    other = re.search(r'name="key" value="([0-9a-f]{32})"', _body(client_manager_client.get(NEW)))
    assert other.group(1) != key
