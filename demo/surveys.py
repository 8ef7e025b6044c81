"""The survey engine's demo data (seed_demo): the default satisfaction survey, a market survey,
and the SMS that carry a survey's link. Idempotent: what exists (by code) is left as an
administrator may have edited it."""

import datetime

from django.db import transaction
from django.utils import timezone

from messaging.models import Approval, Channel, Kind, Purpose, SmsTemplate
from surveys import services as surveys
from surveys.models import Dimension, SurveyQuestion, SurveyRound, SurveyTemplate

Type = SurveyQuestion.Type

# (dimension, Chinese, English): the six dimensions of the return-visit call, 1–5 each.
SATISFACTION_SCALES = [
    (Dimension.DOCTOR, "您对医生的诊疗和解释满意吗？", "How satisfied were you with the doctor?"),
    (Dimension.NURSING, "您对护士的护理和服务满意吗？", "How satisfied were you with the nursing?"),
    (
        Dimension.FRONT_DESK,
        "您对导医台的接待和引导满意吗？",
        "How satisfied were you with the welcome and guidance at the front desk?",
    ),
    (
        Dimension.ENVIRONMENT,
        "您对医院的环境和卫生满意吗？",
        "How satisfied were you with the hospital's surroundings and cleanliness?",
    ),
    (
        Dimension.WAITING,
        "您对候诊时间满意吗？",
        "How satisfied were you with the waiting time?",
    ),
    (
        Dimension.OVERALL,
        "总体来说，您对这次就诊满意吗？",
        "Overall, how satisfied were you with this visit?",
    ),
]

SATISFACTION = {
    "code": "satisfaction",
    "name": "就诊满意度调查",
    "name_en": "Patient satisfaction survey",
    "kind": SurveyTemplate.Kind.SATISFACTION,
    "intro": "感谢您选择中都医院。请根据本次就诊的感受打分：1 分为很不满意，5 分为很满意。",
    "intro_en": (
        "Thank you for choosing Zhongdu Hospital. Please score this visit: 1 means very"
        " dissatisfied, 5 very satisfied."
    ),
}

# The short survey asked by telephone after a consultation call or a visit (voice.surveys):
# one key per question, in this order.
KEYPAD = {
    "code": "keypad",
    "name": "电话按键满意度调查",
    "name_en": "Keypad satisfaction survey",
    "kind": SurveyTemplate.Kind.SATISFACTION,
    "intro": "满意度请按1到5键，1为很不满意，5为很满意；推荐意愿请按0到9键。",
    "intro_en": (
        "Press 1 to 5 for your satisfaction (1 very dissatisfied, 5 very satisfied), then 0 to 9"
        " for how likely you are to recommend us."
    ),
}
KEYPAD_QUESTIONS = [
    {
        "dimension": Dimension.OVERALL,
        "type": Type.SCALE,
        "text": "您对本次服务满意吗？请按1到5键。",
        "text_en": "How satisfied were you with our service? Press 1 to 5.",
    },
    {
        "dimension": Dimension.RECOMMEND,
        "type": Type.RECOMMEND,
        "text": "您有多大可能向亲友推荐我院？请按0到9键。",
        "text_en": "How likely are you to recommend us? Press 0 to 9.",
    },
]

MARKET = {
    "code": "market-2026",
    "name": "市场调查：了解您的需求",
    "name_en": "Market survey: your needs",
    "kind": SurveyTemplate.Kind.MARKET,
    "intro": "为了更好地为您提供皮肤健康服务，请花一分钟回答以下问题。",
    "intro_en": "Help us serve your skin health better: a one-minute questionnaire.",
}
MARKET_QUESTIONS = [
    (
        Type.CHOICE,
        "您是通过什么途径了解到我院的？",
        "How did you hear of us?",
        "亲友介绍|Friends or family\n网络搜索|Internet search\n微信公众号|WeChat account\n"
        "电视或广播|TV or radio\n户外广告|Outdoor advertising\n其他|Other",
        True,
    ),
    (
        Type.CHOICE,
        "您是否有兴趣参加我院的“皮肤健康学校”讲座？",
        "Would you like to attend our skin-health school talks?",
        "很感兴趣|Very interested\n可能参加|Maybe\n暂不需要|Not for now",
        True,
    ),
    (
        Type.CHOICE,
        "您最关心哪方面的皮肤问题？",
        "Which skin concern matters most to you?",
        "痤疮（青春痘）|Acne\n色斑|Pigmentation\n湿疹、皮炎|Eczema or dermatitis\n"
        "脱发|Hair loss\n皮肤老化|Skin ageing\n其他|Other",
        False,
    ),
    (Type.TEXT, "您希望我们增加哪些服务？", "What services would you like us to add?", "", False),
]

# (code, kind, body): a market survey goes to those who agreed to marketing SMS only.
SMS_TEMPLATES = [
    (
        "survey_invitation",
        Kind.SERVICE,
        "{signature}{name}您好，感谢您今天来院就诊。诚邀您花两分钟评价本次服务：{link}",
    ),
    (
        "survey_reminder",
        Kind.SERVICE,
        "{signature}{name}您好，您的评价对我们很重要，问卷仍可填写：{link}",
    ),
    (
        "market_survey",
        Kind.MARKETING,
        "{signature}{name}您好，为更好地提供皮肤健康服务，诚邀您填写一分钟问卷：{link} 回复TD退订",
    ),
]


# Read out by telephone (voice.surveys.KEYPAD_VOICE_TEMPLATE): the keys answer it; each digit
# plays the same reply (messaging.services.SURVEY_MENU), which asks the next question.
VOICE_TEMPLATES = [
    (
        "keypad_survey",
        "TTS_300001",
        "您好，这里是{hospital}。请为本次服务的满意度打分，非常满意请按5，非常不满意请按1。",
    ),
    (
        "keypad_survey_answer",
        "TTS_300002",
        "谢谢。您向亲友推荐我们的可能性有多大？请按0到9键，9表示一定推荐。",
    ),
]


@transaction.atomic
def _template(fields: dict, questions: list[dict], *, default: bool = False) -> bool:
    template, created = SurveyTemplate.objects.get_or_create(
        code=fields["code"],
        defaults={
            **fields,
            # The default only where nobody chose another one.
            "is_default": default and not SurveyTemplate.objects.filter(is_default=True).exists(),
        },
    )
    if created:
        for order, question in enumerate(questions, start=1):
            SurveyQuestion.objects.create(template=template, order=order * 10, **question)
    return created


def _satisfaction_questions() -> list[dict]:
    questions = [
        {"dimension": dimension, "text": text, "text_en": text_en, "type": Type.SCALE}
        for dimension, text, text_en in SATISFACTION_SCALES
    ]
    questions.append(
        {
            "dimension": Dimension.RECOMMEND,
            "type": Type.RECOMMEND,
            "text": "您有多大可能向亲友推荐我院？",
            "text_en": "How likely are you to recommend us to family and friends?",
        }
    )
    questions.append(
        {
            "dimension": Dimension.COMMENT,
            "type": Type.TEXT,
            "text": "您还有什么意见或建议吗？",
            "text_en": "Anything else you would like to tell us?",
            "required": False,
        }
    )
    return questions


def _market_questions() -> list[dict]:
    return [
        {
            "dimension": Dimension.OTHER,
            "type": kind,
            "text": text,
            "text_en": text_en,
            "choices": choices,
            "required": required,
        }
        for kind, text, text_en, choices, required in MARKET_QUESTIONS
    ]


def seed_surveys() -> dict:
    """The demo's survey templates and survey SMS templates, where missing."""
    templates = _template(SATISFACTION, _satisfaction_questions(), default=True)
    templates += _template(MARKET, _market_questions())
    templates += _template(KEYPAD, KEYPAD_QUESTIONS)
    sms = 0
    for code, kind, body in SMS_TEMPLATES:
        _sms, created = SmsTemplate.objects.get_or_create(
            code=code,
            language="zh-hans",
            defaults={"purpose": Purpose.SURVEY, "kind": kind, "body": body},
        )
        sms += created
    for code, provider_code, body in VOICE_TEMPLATES:
        _voice, created = SmsTemplate.objects.get_or_create(
            code=code,
            language="zh-hans",
            defaults={
                "purpose": Purpose.SURVEY,
                "kind": Kind.SERVICE,
                "channel": Channel.VOICE,
                "body": body,
                # The demo's codes stand for ones approved in the voice service's console.
                "provider_code": provider_code,
                "approval": Approval.APPROVED,
            },
        )
        sms += created
    return {"templates": templates, "sms": sms}


ROUND_NAME = "2026年冬季会员需求调查"
# The demo's answers to the market survey, by question order: how they heard of us, interest
# in the skin-health school, their main concern, and what they would like added.
ROUND_ANSWERS = [
    ("亲友介绍", "很感兴趣", "痤疮（青春痘）", "希望周末也有专家门诊"),
    ("微信公众号", "可能参加", "色斑", ""),
    ("网络搜索", "很感兴趣", "皮肤老化", "希望有线上复诊"),
    ("亲友介绍", "暂不需要", "湿疹、皮炎", ""),
    ("微信公众号", "很感兴趣", "色斑", "停车位太少"),
    ("户外广告", "可能参加", "脱发", ""),
]


def seed_market_round(*, by) -> dict:
    """A market survey round sent yesterday to the patients and members who agreed to marketing
    SMS, written by the real job, and a few answers through the survey page's service.
    Idempotent by name."""
    made = {"rounds": 0, "invited": 0, "answered": 0}
    template = SurveyTemplate.objects.filter(code=MARKET["code"], active=True).first()
    if template is None or SurveyRound.objects.filter(name=ROUND_NAME).exists():
        return made
    send_at = timezone.now() - datetime.timedelta(days=1)
    segment = {"categories": ["is_member", "is_patient"]}
    survey_round = SurveyRound.objects.create(
        name=ROUND_NAME,
        template=template,
        segment=segment,
        send_at=send_at,
        expires_at=send_at + datetime.timedelta(days=14),
        total=surveys.round_recipients(segment).count(),
        started_at=send_at,
        progress_at=send_at,
        created_by=by,
    )
    while not surveys.round_send(round_id=survey_round.pk):
        pass
    survey_round.refresh_from_db()
    questions = list(template.questions.all())
    invitations = survey_round.invitations.select_related("template").order_by("pk")
    for invitation, answers in zip(invitations, ROUND_ANSWERS, strict=False):
        values = {q.pk: value for q, value in zip(questions, answers, strict=False) if value}
        surveys.survey_submit(invitation=invitation, answers=values)
        made["answered"] += 1
    made["rounds"], made["invited"] = 1, survey_round.invited
    return made
