"""Education and reminders: the articles and coming skin-health school lectures that fit the
findings; the seasonal reminder (sun protection before summer for a pigmentation finding) once a
year per client and finding through the outbox, generic (no finding named), only to clients who
have not refused service SMS; the re-examination's SMS on its day through the care plan."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from clientmgmt.consent import SERVICE_SMS
from config.schedules import DEFAULT_SCHEDULES
from exams import assessment as services
from exams import tasks
from messaging.models import OutboxMessage, Purpose
from tests.clientmgmt.factories import ClientFactory, withdraw
from zhongdu import roles

from .assessment_factories import (
    article,
    fungal_finding,
    health_template,
    lecture,
    released_order,
    sms,
)
from .factories import clinician, finding

pytestmark = pytest.mark.django_db

SUN = "{name}您好，夏季将至，请注意防晒，外出时做好防护。"


def _pigment(months):
    return finding(
        "pigment",
        "色素痣待观察",
        plan_template=health_template("色素痣健康管理"),
        keywords="色素 防晒",
        reminder_months=months,
        reminder_sms=sms("season_sun", SUN, purpose=Purpose.HEALTH_TIP),
    )


def _assessed(finding_, *, client=None, final=True):
    order = released_order(client=client or ClientFactory(), finding_=finding_)
    writer = clinician()
    services.assessment_save(order=order, by=writer, findings=[finding_], texts={})
    if final:
        services.assessment_finalise(order=order, by=writer)
    return order


def _season_sms():
    return OutboxMessage.objects.filter(idempotency_key__startswith="exam-season:")


def test_the_seasonal_reminder_goes_once_a_year_without_the_finding(
    django_capture_on_commit_callbacks,
):
    month = timezone.localdate().month
    pigment = _pigment(str(month))
    order = _assessed(pigment)
    _assessed(pigment, client=order.client)  # a second assessment of the same client
    _assessed(pigment, final=False)  # a draft reminds nobody
    refused = ClientFactory()
    withdraw(refused, SERVICE_SMS)
    _assessed(pigment, client=refused)
    assert tasks.exam_seasonal_reminders() == 1
    assert tasks.exam_seasonal_reminders() == 0
    message = _season_sms().get()
    assert message.client == order.client
    assert "防晒" in message.body
    assert "色素" not in message.body and "痣" not in message.body
    assert message.purpose == Purpose.HEALTH_TIP
    assert (
        message.idempotency_key
        == f"exam-season:{order.client_id}:{pigment.pk}:{timezone.localdate().year}"
    )
    assert not _season_sms().filter(client=refused).exists()
    # Next year it goes again.
    next_year = timezone.localdate().replace(year=timezone.localdate().year + 1, day=1)
    assert services.seasonal_reminders_send(today=next_year) == 1


def test_no_seasonal_reminder_outside_its_months():
    other = (timezone.localdate().month % 12) + 1
    _assessed(_pigment(str(other)))
    assert services.seasonal_reminders_send() == 0
    assert not _season_sms().exists()


def test_a_reminder_text_naming_the_finding_is_refused():
    pigment = _pigment("4 5")
    pigment.reminder_sms = sms("bad_season", "{name}您好，您的色素痣待观察，请复查。")
    with pytest.raises(ValidationError):
        pigment.full_clean()
    pigment.save()
    month_of = timezone.localdate().replace(month=4, day=1)
    _assessed(pigment)
    assert services.seasonal_reminders_send(today=month_of) == 0
    pigment.reminder_months = "13"
    with pytest.raises(ValidationError):
        pigment.full_clean()


def test_the_task_is_scheduled():
    jobs = {name: (task, every) for name, task, every in DEFAULT_SCHEDULES}
    assert jobs["exams.seasonal_reminders"] == ("exams.tasks.exam_seasonal_reminders", 86400)


def test_the_reexamination_sms_goes_on_its_day_without_the_finding():
    order = _assessed(fungal_finding())
    due = timezone.localdate() + datetime.timedelta(days=30)
    message = OutboxMessage.objects.get(
        client=order.client, idempotency_key__endswith=f":{due:%Y%m%d}"
    )
    assert message.status == OutboxMessage.Status.PENDING
    assert timezone.localtime(message.send_after).date() == due
    assert "真菌" not in message.body and due.strftime("%Y-%m-%d") in message.body


def test_the_page_lists_the_articles_and_coming_lectures_that_fit(client_for):
    fungal = fungal_finding()
    fungal.articles.add(article())
    lecture()
    lecture(title="皮肤健康学校：真菌复发怎么办", days=-3)  # over
    lecture(title="皮肤健康学校：祛斑与防晒")  # another finding's
    order = _assessed(fungal)
    page = client_for(roles.CLIENT_MANAGER).get(
        reverse("exams:assessment", args=[order.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    education = page.content.decode().split('data-testid="education"')[1].split("</div>")[0]
    assert "足癣的预防" in education
    assert "真菌感染防治" in education
    assert "复发怎么办" not in education and "祛斑与防晒" not in education
