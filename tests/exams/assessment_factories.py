"""Findings with their health plan templates, and released orders that point to them."""

import datetime

from django.utils import timezone

from clientmgmt.models import Client
from events import services as events
from events.models import Event
from exams.models import ResultDefinition
from followup.models import CarePlanTemplate, CarePlanTemplateStep
from messaging.models import Kind, Purpose, SmsTemplate
from tests.clientmgmt.factories import ClientFactory
from zhongdu.models import KnowledgeArticle

from .factories import choice_definition, finding, number_definition, order_with, record, release

HEADINGS = {
    "exercise": "每周快走三次",
    "diet": "少吃辛辣",
    "mental_health": "保持心情舒畅",
    "prevention": "保持足部干燥",
    "sub_health": "规律作息",
    "insurance": "可考虑皮肤病门诊险",
}


def sms(code, body, purpose=Purpose.FOLLOWUP_REMINDER):
    return SmsTemplate.objects.get_or_create(
        code=code, defaults={"purpose": purpose, "kind": Kind.SERVICE, "body": body}
    )[0]


def health_template(name="真菌感染健康管理", **texts):
    existing = CarePlanTemplate.objects.filter(name=name).first()
    if existing is not None:
        return existing
    template = CarePlanTemplate.objects.create(
        name=name, kind=CarePlanTemplate.Kind.HEALTH, **{**HEADINGS, **texts}
    )
    CarePlanTemplateStep.objects.create(
        template=template, day_offset=7, label="第7天回访", script="询问用药情况"
    )
    CarePlanTemplateStep.objects.create(
        template=template,
        day_offset=14,
        label="第14天提醒",
        call=False,
        sms_template=sms("health_reminder", "{name}您好，请按健康计划安排生活。"),
    )
    return template


def fungal_finding(**kwargs):
    defaults = {
        "plan_template": health_template(),
        "reexam_after_days": 30,
        "reexam_sms": sms("reexam_due", "{name}您好，您的复查日期为{date}，请预约。"),
        "keywords": "真菌 足癣",
    }
    return finding("fungal", "真菌感染", **{**defaults, **kwargs})


def article(title="足癣的预防", body="保持足部清洁干燥。"):
    return KnowledgeArticle.objects.create(title=title, topic=KnowledgeArticle.Topic.FAQ, body=body)


def lecture(title="皮肤健康学校：真菌感染防治", days=10):
    starts = timezone.now() + datetime.timedelta(days=days)
    return events.event_create(
        by=None,
        title=title,
        kind=Event.Kind.LECTURE,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=1),
        place="门诊楼三楼报告厅",
        capacity=50,
        description="",
        segment={},
        vip_only=False,
    )


def released_order(*, client=None, finding_=None, released=True):
    """An order of a white-cell count (normal) and a fungal test (positive: abnormal, pointing
    to the fungal finding), recorded and released."""
    finding_ = finding_ or fungal_finding()
    count = ResultDefinition.objects.filter(exam__code="JC101").first() or number_definition(
        "JC101"
    )
    code = f"JC2{finding_.pk:02d}"
    fungal = ResultDefinition.objects.filter(exam__code=code).first() or choice_definition(
        code, finding=finding_
    )
    client = client or ClientFactory(
        name="李娜",
        sex=Client.Sex.FEMALE,
        phone="+8613812345678",
        date_of_birth=datetime.date(1990, 5, 1),
    )
    order = order_with(count, fungal, client=client)
    record(order, count, number="5.2")
    record(order, fungal, text="阳性")
    if released:
        release(order)
    return order
