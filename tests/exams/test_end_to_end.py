"""An exam order from its package to the client's report, through the pages and as each role
does it: the front desk orders the package, the doctor enters one result and imports the
laboratory's file for the others, releases them; the critical value waits on the alerts'
worklist with its clock-time deadline; the client manager fills the assessment from the
findings' templates and finalises the plan; the report prints every result with its range and
flag. In Chinese, as the hospital works."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from clientmgmt.models import Client
from exams.models import ExamResult, HealthAssessment, ResultAlert, ResultRelease
from exams.models.assessment import PLAN_HEADINGS
from followup.models import CarePlan, CarePlanTemplate
from guide.models import ExamOrder, ExamPackage
from tests.clientmgmt.factories import ClientFactory
from zhongdu import roles
from zhongdu.forms import new_form_key
from zhongdu.models import PriceItem

from .factories import choice_definition, finding, number_definition, price

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def test_from_the_package_to_the_clients_report(client_for, settings):
    settings.EXAM_CRITICAL_MINUTES = 60
    template = CarePlanTemplate.objects.create(
        name="真菌感染检后管理", kind="health", diet="少食甜食。", prevention="鞋袜勤换洗。"
    )
    fungal = finding(plan_template=template)
    wbc = number_definition()  # 3.5–9.5, critical < 2.0
    fungus = choice_definition(finding=fungal)
    package = ExamPackage.objects.create(
        price_item=price("TC101", "200.00", category=PriceItem.Category.PACKAGE, name="皮肤体检")
    )
    package.items.set([wbc.exam, fungus.exam])
    person = ClientFactory(sex=Client.Sex.FEMALE, date_of_birth=datetime.date(1990, 5, 1))

    front_desk = client_for(roles.FRONT_DESK)
    new = reverse("guide:exam_new") + f"?client={person.pk}"
    assert (
        front_desk.post(new, {"package": package.pk, "key": new_form_key()}, **ZH).status_code
        == 302
    )
    order = ExamOrder.objects.get(client=person)
    assert order.items.count() == 2

    doctor = client_for(roles.CLINICIAN)
    fungus_item = order.items.get(price_item=fungus.exam)
    saved = doctor.post(
        reverse("exams:result_save", args=[order.pk, fungus_item.pk]), {"value": "阳性"}, **ZH
    )
    assert saved.status_code in (200, 302)
    lab = SimpleUploadedFile(
        "lab.csv", "项目编码,结果,单位\nJC101,1.5,\n".encode("gbk"), content_type="text/csv"
    )
    imports = reverse("exams:results_import", args=[order.pk])
    preview = doctor.post(imports, {"file": lab}, **ZH)
    assert preview.status_code == 200
    payload = preview.context["confirm_form"].initial["payload"]
    assert doctor.post(imports, {"payload": payload, "reason": ""}, **ZH).status_code == 302
    flags = dict(ExamResult.objects.filter(order=order).values_list("item__price_item", "flag"))
    assert flags == {wbc.exam.pk: "critical", fungus.exam.pk: "abnormal"}

    # Nothing but "pending" at the front desk; the doctor releases.
    detail = front_desk.get(reverse("guide:exam_detail", args=[order.pk]), **ZH).content.decode()
    assert "1.5" not in detail
    released = doctor.post(
        reverse("exams:results_release", args=[order.pk]), {"confirm": "on"}, **ZH
    )
    assert released.status_code == 302
    release = ResultRelease.objects.get(order=order)

    # The critical value's task, due an hour after the release whatever the hour.
    manager = client_for(roles.CLIENT_MANAGER)
    critical = ResultAlert.objects.get(order=order, level="critical")
    assert critical.due_at == release.released_at + datetime.timedelta(minutes=60)
    assert ResultAlert.objects.filter(order=order, level="abnormal").exists()
    worklist = manager.get(reverse("exams:alerts"), **ZH)
    assert worklist.status_code == 200 and critical.get_level_display() in worklist.content.decode()

    # The assessment from the fungal finding's template, finalised into the plan.
    assessment = reverse("exams:assessment", args=[order.pk])
    form = {"findings": [fungal.pk], "assessment": "足部真菌镜检阳性；白细胞危急值已电话告知。"}
    filled = manager.post(assessment, {**form, "action": "fill"}, **ZH)
    texts = {name: filled.context["form"].initial.get(name, "") for name in PLAN_HEADINGS}
    assert "少食甜食" in texts["diet"]
    texts["insurance"] = "建议购买门诊医疗保险。"
    assert (
        manager.post(assessment, {**form, **texts, "action": "finalise"}, **ZH).status_code == 302
    )
    plan = HealthAssessment.objects.get(order=order).plan
    assert plan.kind == CarePlan.Kind.HEALTH and plan.insurance == "建议购买门诊医疗保险。"

    # The client's report: every result with its range and flag, the plan, in Chinese.
    report = manager.get(reverse("exams:report_pdf", args=[order.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert report.status_code == 200 and report["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(report.content)).pages)
    text = text.replace(" ", "").replace("\n", "")
    for expected in ("1.5", "3.5–9.5", "危急", "阳性", "异常", "少食甜食", "门诊医疗保险"):
        assert expected in text, expected
