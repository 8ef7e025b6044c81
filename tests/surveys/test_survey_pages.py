"""The public survey page (/s/<token>/), the visit slip with its QR code, and who may open
them."""

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from followup.models import FollowUpCall
from surveys.models import (
    Dimension,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveyTemplate,
)
from surveys.views import first_name
from tests.clientmgmt.factories import ID_NUMBERS, ClientFactory
from tests.followup.factories import make_plan
from tests.surveys.factories import (
    all_answers,
    doctor_in,
    expire,
    finished_visit,
    invitation,
    satisfaction_survey,
)
from tests.zhongdu.factories import DepartmentFactory
from zhongdu import roles

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


def _url(invitation_):
    return reverse("survey", args=[invitation_.token])


def _form(template, **kwargs):
    """The POST body the page's form sends for these answers."""
    return {f"q{pk}": value for pk, value in all_answers(template, **kwargs).items()}


def _page(response):
    return response.content.decode()


# --- The public page ----------------------------------------------------------------


def test_the_survey_opens_without_signing_in_in_chinese(client):
    made = invitation(client=ClientFactory(name="王小红"))
    response = client.get(_url(made), **ZH)
    body = _page(response)
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in body
    assert "满意度调查" in body
    assert "您对Doctor满意吗？" in body  # the questions' own Chinese texts
    assert "您愿意向亲友推荐我院吗？" in body
    assert re.search(r'data-testid="survey-greeting">[^<]*小红', body)
    assert made.visit.day.strftime("%Y") in _page(response)
    assert response["Cache-Control"].startswith("max-age=0")
    assert response["X-Robots-Tag"] == "noindex"


def test_an_english_reader_gets_the_english_texts(client):
    made = invitation(client=ClientFactory(name="王小红"))
    body = _page(client.get(_url(made), **EN))
    assert '<html lang="en">' in body
    assert "Satisfaction survey" in body and "满意度调查" not in body
    assert "Would you recommend us?" in body and "您愿意向亲友推荐我院吗？" not in body
    assert "Hello, 小红!" in body
    assert "1 = very dissatisfied" in body and "10 = extremely likely" in body


def test_a_question_without_english_is_asked_in_chinese_to_an_english_reader(client):
    made = invitation()
    SurveyQuestion.objects.filter(template=made.template, order=0).update(text_en="")
    body = _page(client.get(_url(made), **EN))
    assert "您对Doctor满意吗？" in body


def test_an_anonymous_visitor_switches_the_survey_to_english(client):
    made = invitation()
    assert "Satisfaction survey" not in _page(client.get(_url(made), **ZH))
    switched = client.post(reverse("set_language"), {"language": "en", "next": _url(made)}, **ZH)
    assert switched.status_code == 302 and switched["Location"] == _url(made)
    assert "Satisfaction survey" in _page(client.get(_url(made), **ZH))


def test_the_page_shows_the_first_name_only_and_no_phone_or_id_number(client):
    person = ClientFactory(name="欧阳娜娜", phone="+8613912345678", id_number=ID_NUMBERS[0])
    made = invitation(client=person)
    for headers in (ZH, EN):
        body = _page(client.get(_url(made), **headers))
        assert "娜娜" in body
        assert "欧阳娜娜" not in body
        for secret in ("13912345678", "139****5678", "5678", ID_NUMBERS[0], ID_NUMBERS[0][-4:]):
            assert secret not in body


@pytest.mark.parametrize(
    "name,expected",
    [
        ("王小红", "小红"),
        ("张伟", "伟"),
        ("欧阳娜娜", "娜娜"),
        ("司马光", "光"),
        ("王", "王"),
        ("买买提·艾力", "买买提"),
        ("John Smith", "John"),
        ("", ""),
    ],
)
def test_the_survey_calls_a_person_by_their_given_name(name, expected):
    assert first_name(name) == expected


def test_scores_are_radio_buttons_drawn_as_buttons_on_a_grid(client):
    made = invitation()
    body = _page(client.get(_url(made), **ZH))
    radios = re.findall(r'<input type="radio" class="btn-check"', body)
    assert len(radios) == 6 * 5 + 11
    assert body.count("survey-scale-scale") == 6 and body.count("survey-scale-recommend") == 1
    assert 'href="/static/css/surveys.css"' in body
    assert "<textarea" in body


def test_complete_answers_are_recorded_and_thanked(client):
    made = invitation()
    data = _form(made.template, score=4, recommend=10, comment="护士很耐心")
    response = client.post(_url(made), data, **ZH)
    assert response.status_code == 302
    assert response["Location"] == _url(made) + "?thanks=1"
    thanks = client.get(response["Location"], **EN)
    assert thanks.status_code == 200
    assert 'data-testid="survey-thanks"' in _page(thanks)
    assert "Thank you for your feedback" in _page(thanks)
    answer = SurveyResponse.objects.get(invitation=made)
    assert answer.source == SurveyResponse.Source.SURVEY
    assert answer.lowest_score == 4 and answer.recommend == 10
    assert answer.comment == "护士很耐心"
    assert answer.department == made.visit.department
    assert answer.answers.filter(dimension=Dimension.DOCTOR, score=4).exists()
    assert not answer.needs_recovery
    made.refresh_from_db()
    assert made.used_at is not None


def test_missing_answers_keep_the_others_and_say_which_are_missing(client):
    made = invitation()
    questions = list(made.template.questions.all())
    data = _form(made.template, score=3, recommend=8, comment="停车不方便")
    del data[f"q{questions[1].pk}"]  # nursing
    del data[f"q{questions[6].pk}"]  # recommend
    response = client.post(_url(made), data, **EN)
    body = _page(response)
    assert response.status_code == 422
    errors = body[
        body.index('data-testid="survey-errors"') : body.index(
            "</div>", body.index('data-testid="survey-errors"')
        )
    ]
    assert "2 questions still need an answer" in errors
    assert (
        f'href="#q-{questions[1].pk}"' in errors
        and "How satisfied are you with: Nursing?" in errors
    )
    assert f'href="#q-{questions[6].pk}"' in errors and "Would you recommend us?" in errors
    assert "Please choose a score from 1 to 5." in body
    assert "Please choose a score from 0 to 10." in body
    # What was given is still chosen, and the comment still written.
    checked = re.findall(r'name="(q\d+)" id="[^"]+" value="(\d+)" autocomplete="off" checked', body)
    assert sorted(checked) == sorted(
        (f"q{q.pk}", "3") for q in questions[:6] if q.pk != questions[1].pk
    )
    assert "停车不方便</textarea>" in body
    assert not SurveyResponse.objects.exists()
    made.refresh_from_db()
    assert made.used_at is None


def test_a_score_outside_the_scale_is_refused_and_nothing_recorded(client):
    made = invitation()
    first = made.template.questions.first()
    data = _form(made.template) | {f"q{first.pk}": "7"}
    response = client.post(_url(made), data, **EN)
    assert response.status_code == 422
    assert not SurveyResponse.objects.exists()


def test_every_survey_page_is_the_hospitals_not_the_staff_products(client):
    from zhongdu.services import hospital_profile_add

    hospital_profile_add(
        by=None, display_name="中都皮肤病医院", address="郑州市建设路88号", hotline="0371-6666 8888"
    )
    made = invitation()
    pages = [client.get(_url(made), **ZH)]
    pages.append(client.post(_url(made), _form(made.template), follow=True, **ZH))  # thanks
    pages.append(client.get(_url(made), **ZH))  # already answered
    pages.append(client.get(reverse("survey", args=["nope"]), **ZH))  # not valid
    for response in pages:
        body = _page(response)
        assert 'data-testid="hospital-name">中都皮肤病医院<' in body
        assert "0371-6666 8888" in body and "郑州市建设路88号" in body
        assert 'name="viewport"' in body
        assert "中都客服" not in body and 'data-testid="main-nav"' not in body


def test_a_used_link_says_politely_it_has_been_answered(client):
    made = invitation()
    assert client.post(_url(made), _form(made.template), **EN).status_code == 302
    again = client.get(_url(made), **EN)
    assert again.status_code == 200
    assert "This survey has already been answered" in _page(again)
    assert '<form method="post" novalidate' not in _page(again)
    resent = Client().post(_url(made), _form(made.template, score=1), **EN)
    assert resent.status_code == 200
    assert 'data-testid="survey-answered"' in _page(resent)
    assert SurveyResponse.objects.count() == 1


def test_an_expired_link_answers_410_with_a_polite_page(client):
    made = expire(invitation())
    for response in (
        client.get(_url(made), **EN),
        client.post(_url(made), _form(made.template), **EN),
    ):
        assert response.status_code == 410
        body = _page(response)
        assert "This link is no longer valid" in body
        assert "the time for answering this survey has passed" in body
        assert "survey-form" not in body
    assert not SurveyResponse.objects.exists()


def test_an_unknown_link_answers_404_with_a_polite_page_that_reveals_nothing(client):
    invitation(client=ClientFactory(name="王小红"))
    for token in ("nope", "x" * 22, "A" * 200):
        response = client.get(reverse("survey", args=[token]), **EN)
        assert response.status_code == 404
        body = _page(response)
        assert 'data-testid="survey-invalid"' in body
        assert "This link is no longer valid" in body
        assert "小红" not in body and "survey-form" not in body


def test_a_post_without_the_csrf_token_is_refused(client):
    made = invitation()
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(_url(made), _form(made.template)).status_code == 403
    page = strict.get(_url(made))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', _page(page)).group(1)
    data = _form(made.template) | {"csrfmiddlewaretoken": token}
    assert strict.post(_url(made), data).status_code == 302


def test_a_low_score_on_the_page_creates_a_recovery_call(client, role_user):
    role_user(roles.CLIENT_MANAGER)
    made = invitation()
    response = client.post(_url(made), _form(made.template, score=2, recommend=8), **EN)
    assert response.status_code == 302
    answer = SurveyResponse.objects.get()
    assert answer.needs_recovery and answer.lowest_score == 2
    call = FollowUpCall.objects.get(reason=FollowUpCall.Reason.SERVICE_RECOVERY)
    assert call.source == f"surveys.surveyresponse:{answer.pk}" and call.recovery_for == answer
    assert call.client == made.client and call.visit == made.visit
    assert call.status == FollowUpCall.Status.OPEN and call.assigned_to is not None
    assert call.due_on <= timezone.localdate() + datetime.timedelta(days=7)


def test_a_market_survey_asks_its_choices_in_the_readers_language(client):
    template = SurveyTemplate.objects.create(
        code="market", name="市场调查", name_en="Market survey", kind="market"
    )
    question = SurveyQuestion.objects.create(
        template=template,
        text="您是通过什么途径了解到我院的？",
        text_en="How did you hear of us?",
        type=SurveyQuestion.Type.CHOICE,
        dimension=Dimension.OTHER,
        choices="亲友介绍|Friends or family\n网络搜索|Internet search",
    )
    made = SurveyInvitation.objects.create(
        template=template,
        client=ClientFactory(),
        channel=SurveyInvitation.Channel.CAMPAIGN,
        expires_at=timezone.now() + datetime.timedelta(days=3),
    )
    english = _page(client.get(_url(made), **EN))
    assert "Market survey" in english and "Internet search" in english
    assert "survey-visit" not in english  # no visit, no visit date
    chinese = _page(client.get(_url(made), **ZH))
    assert "网络搜索" in chinese and "Internet search" not in chinese
    response = client.post(_url(made), {f"q{question.pk}": "网络搜索"}, **EN)
    assert response.status_code == 302
    answer = SurveyResponse.objects.get()
    assert answer.answers.get().text == "网络搜索" and not answer.needs_recovery


# --- The visit slip -----------------------------------------------------------------


def _slip(visit):
    return reverse("followup:visit_slip", args=[visit.pk])


def test_the_slip_prints_the_visit_and_the_qr_code_of_the_absolute_link(
    front_desk_client, settings
):
    settings.PUBLIC_BASE_URL = "https://kefu.zhongdu.example"
    satisfaction_survey()
    department = DepartmentFactory(name="皮肤科")
    visit = finished_visit(
        client=ClientFactory(name="王小红"), department=department, expert=doctor_in(department)
    )
    response = front_desk_client.get(_slip(visit), **ZH)
    body = _page(response)
    assert response.status_code == 200
    made = SurveyInvitation.objects.get(visit=visit)
    link = f"https://kefu.zhongdu.example/s/{made.token}/"
    assert "中都医院" in body and "王小红" in body and "皮肤科" in body and "李医生" in body
    assert visit.day.isoformat() in body
    qr = re.search(r'<svg viewBox="[^"]+" class="survey-qr"><title>([^<]+)</title><path', body)
    assert qr is not None and qr.group(1) == link
    assert re.search(rf'data-testid="slip-link">{re.escape(link)}</p>', body)
    assert "data:" not in body
    assert 'data-testid="slip-no-survey"' not in body
    # Printing again gives the same link: one invitation per visit.
    assert link in _page(front_desk_client.get(_slip(visit)))
    assert SurveyInvitation.objects.filter(visit=visit).count() == 1


def test_the_slip_shows_the_next_follow_up_of_a_live_care_plan(front_desk_client):
    satisfaction_survey()
    visit = finished_visit()
    assert 'data-testid="slip-next-followup"' not in _page(front_desk_client.get(_slip(visit)))
    make_plan(client=visit.client)  # timepoints on days 1, 3, 7 and 30
    body = _page(front_desk_client.get(_slip(visit)))
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    assert f'data-testid="slip-next-followup">{tomorrow.isoformat()}<' in body


def test_without_a_default_survey_the_slip_prints_without_the_code_and_says_so(
    front_desk_client,
):
    satisfaction_survey(default=False)
    visit = finished_visit()
    response = front_desk_client.get(_slip(visit), **EN)
    body = _page(response)
    assert response.status_code == 200
    assert "<svg" not in body
    assert re.search(r'class="alert alert-warning d-print-none" data-testid="slip-no-survey"', body)
    assert not SurveyInvitation.objects.exists()


@pytest.mark.parametrize(
    "role,status",
    [
        (roles.FRONT_DESK, 200),
        (roles.VIP_MANAGER, 200),
        (roles.ADMINISTRATOR, 200),
        (roles.CLIENT_MANAGER, 200),
        (roles.CONSULTANT, 403),
        (roles.MANAGER, 403),
    ],
)
def test_the_slip_is_printed_by_the_front_desk_and_client_management(client_for, role, status):
    satisfaction_survey()
    visit = finished_visit()
    assert client_for(role).get(_slip(visit)).status_code == status


def test_an_anonymous_visitor_is_sent_to_sign_in_from_the_slip(client):
    visit = finished_visit()
    response = client.get(_slip(visit))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not SurveyInvitation.objects.exists()


def test_the_slip_of_a_missing_visit_is_not_found(front_desk_client):
    assert front_desk_client.get(reverse("followup:visit_slip", args=[999999])).status_code == 404


def test_the_visit_page_offers_the_slip_to_those_who_may_print_it(client_for):
    visit = finished_visit()
    url = reverse("guide:visit_detail", args=[visit.pk])
    button = f'href="{_slip(visit)}" data-testid="visit-slip"'
    assert button in _page(client_for(roles.FRONT_DESK).get(url))
    assert button in _page(client_for(roles.CLIENT_MANAGER).get(url))
    assert button not in _page(client_for(roles.MANAGER).get(url))


def test_the_survey_page_is_the_only_public_one_of_the_surveys():
    assert roles.access_rule("survey") == roles.PUBLIC
    for name in ("visit_slip", "survey_weekly", "survey_weekly_export", "response_list"):
        assert roles.access_rule(f"followup:{name}") != roles.PUBLIC
