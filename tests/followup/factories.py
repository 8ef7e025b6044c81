"""Factories for follow-up: templates and plans through the real services."""

import datetime

from django.utils import timezone

from followup import services
from followup.models import CarePlanTemplate, CarePlanTemplateStep
from messaging.models import Kind, Purpose, SmsTemplate
from tests.clientmgmt.factories import ClientFactory


def sms_template(code="followup_reminder", body="{name}您好，请于{date}来院复查。"):
    return SmsTemplate.objects.get_or_create(
        code=code,
        defaults={"purpose": Purpose.FOLLOWUP_REMINDER, "kind": Kind.SERVICE, "body": body},
    )[0]


def plan_template(name="激光术后护理", offsets=(1, 3, 7, 30), sms_on=(7,), kind="care"):
    """A template with a step per offset (days); one name is one template (names are unique),
    so asking again for the same name returns the first."""
    existing = CarePlanTemplate.objects.filter(name=name).first()
    if existing is not None:
        return existing
    template = CarePlanTemplate.objects.create(
        name=name, kind=kind, diet="忌辛辣", rehab="术后一周内防晒", lifestyle="避免熬夜"
    )
    for day in offsets:
        CarePlanTemplateStep.objects.create(
            template=template,
            day_offset=day,
            label=f"第{day}天回访",
            script=f"询问第{day}天恢复情况",
            sms_template=sms_template() if day in sms_on else None,
        )
    return template


def make_plan(*, client=None, template=None, starts_on=None, by=None, **kwargs):
    return services.plan_create(
        client=client or ClientFactory(),
        template=template if template is not None else plan_template(),
        starts_on=starts_on or timezone.localdate(),
        by=by,
        **kwargs,
    )


def make_call(*, client=None, due_on=None, **kwargs):
    return services.call_create(
        client=client or ClientFactory(), due_on=due_on or timezone.localdate(), **kwargs
    )


def days(n):
    return timezone.localdate() + datetime.timedelta(days=n)


def pool_call(**kwargs):
    """An open call nobody has taken (it waits in the shared pool)."""
    call = make_call(**kwargs)
    type(call).objects.filter(pk=call.pk).update(assigned_to=None)
    call.refresh_from_db()
    return call


def make_vip(client):
    """VIP status is kept by the vip app; tests set the flag directly."""
    type(client).objects.filter(pk=client.pk).update(is_vip=True)
    client.refresh_from_db()
    return client
