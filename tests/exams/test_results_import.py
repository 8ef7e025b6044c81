"""An order's results from the laboratory's file: the preview with each row's outcome, the
confirmation recording the good rows as imported (once: confirming again records nothing new),
CSV in UTF-8 or GBK and Excel, Chinese or English headers, bad rows and bad files, and no
silent overwrite after the release."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from exams.models import ExamResult, ExamResultRevision
from zhongdu import roles

from .factories import (
    choice_definition,
    exam_item,
    file_definition,
    item_of,
    number_definition,
    order_with,
    record,
    release,
)

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.fixture
def clinician(client_for):
    return client_for(roles.CLINICIAN)


@pytest.fixture
def order_of_two():
    wbc, fungus = number_definition(), choice_definition()
    return order_with(wbc, fungus), wbc, fungus


def _url(order):
    return reverse("exams:results_import", args=[order.pk])


def _csv(text, encoding="utf-8", name="lab.csv"):
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def _preview(http, order, upload, **headers):
    return http.post(_url(order), {"file": upload}, **(headers or EN))


def _confirm(http, order, preview, reason=""):
    payload = preview.context["confirm_form"].initial["payload"]
    return http.post(_url(order), {"payload": payload, "reason": reason}, **EN)


def _outcomes(preview):
    return [(row.number, row.outcome) for row in preview.context["rows"]]


def test_a_file_is_previewed_then_recorded_once(clinician, order_of_two):
    order, wbc, fungus = order_of_two
    preview = _preview(clinician, order, _csv("code,value,unit\nJC101,12.5,×10⁹/L\nJC102,阴性,\n"))
    assert preview.status_code == 200
    assert _outcomes(preview) == [(2, "record"), (3, "record")]
    assert not ExamResult.objects.exists()  # nothing before the confirmation
    done = _confirm(clinician, order, preview)
    assert done.status_code == 302 and done.url == reverse("exams:results", args=[order.pk])
    results = {r.item.price_item_id: r for r in ExamResult.objects.select_related("item")}
    assert results[wbc.exam_id].flag == "abnormal"
    assert results[wbc.exam_id].source == ExamResult.Source.IMPORTED
    assert results[fungus.exam_id].value_text == "阴性"
    again = _confirm(clinician, order, preview)  # a double click, a resubmitted tab
    assert again.status_code == 302
    assert ExamResultRevision.objects.count() == 2
    page = clinician.get(reverse("exams:results", args=[order.pk]), **EN).content.decode()
    assert "unchanged: 2" in page
    second = _preview(clinician, order, _csv("code,value\nJC101,12.5\nJC102,阴性\n"))
    assert _outcomes(second) == [(2, "unchanged"), (3, "unchanged")]
    assert 'data-testid="import-nothing"' in second.content.decode()


def test_a_gbk_file_with_chinese_headers(clinician, order_of_two):
    order, wbc, _fungus = order_of_two
    # GBK cannot write ⁹: the laboratory's file gives no unit then.
    upload = _csv("项目编码,项目名称,结果\nJC101,白细胞计数,５．２\nJC102,真菌镜检,阳性\n", "gbk")
    preview = _preview(clinician, order, upload, **ZH)
    assert _outcomes(preview) == [(2, "record"), (3, "record")]
    assert "将记录" in preview.content.decode()
    _confirm(clinician, order, preview)
    assert ExamResult.objects.get(item=item_of(order, wbc)).value_number == Decimal("5.2")


def test_an_excel_file(clinician, order_of_two):
    order, wbc, _fungus = order_of_two
    book = Workbook()
    sheet = book.active
    sheet.append(["Item code", "Result"])
    sheet.append(["JC101", 3.1])
    sheet.append(["JC102", "阳性"])
    raw = io.BytesIO()
    book.save(raw)
    upload = SimpleUploadedFile("lab.xlsx", raw.getvalue())
    preview = _preview(clinician, order, upload)
    assert _outcomes(preview) == [(2, "record"), (3, "record")]
    _confirm(clinician, order, preview)
    assert ExamResult.objects.get(item=item_of(order, wbc)).flag == "abnormal"


def test_bad_rows_say_why_and_only_good_rows_are_recorded(clinician, order_of_two):
    order, wbc, _fungus = order_of_two
    exam_item("JC555", name="不在本单")
    dermoscopy, second_choice = file_definition(), choice_definition("JC106")
    order.items.create(price_item=dermoscopy.exam)
    order.items.create(price_item=second_choice.exam)
    order.items.create(price_item=number_definition("JC107").exam)
    rows = [
        "code,value,unit",
        "JC101,abc,",  # 2 not a number
        "JC106,可疑,",  # 3 not an answer
        "XX999,1,",  # 4 unknown code
        "JC555,1,",  # 5 not in this order
        "JC107,5,mmol/L",  # 6 wrong unit
        "JC104,x,",  # 7 a file is not imported
        "JC102,阴性,",  # 8 good
        "JC102,阳性,",  # 9 repeats row 8
        ",5,",  # 10 no code
        "JC101,5\x00,",  # 11 control character
    ]
    preview = _preview(clinician, order, _csv("\n".join(rows) + "\n"))
    outcomes = dict(_outcomes(preview))
    assert [n for n, o in outcomes.items() if o == "record"] == [8]
    details = {row.number: row.detail for row in preview.context["rows"]}
    assert details[2] == "Enter a number."
    assert "Not one of the answers" in details[3]
    assert details[4] == "Unknown examination code."
    assert details[5] == "This examination is not in this order."
    assert "mmol/L" in details[6]
    assert "report file" in details[7]
    assert "row 8" in details[9]
    assert "no examination code" in details[10]
    assert "control character" in details[11]
    _confirm(clinician, order, preview)
    assert ExamResult.objects.count() == 1
    assert not ExamResult.objects.filter(item=item_of(order, wbc)).exists()


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("lab.pdf", b"%PDF-1.4"), "Upload a .csv or .xlsx file."),
        (SimpleUploadedFile("lab.csv", b"name,age\nx,1\n"), "项目编码"),
        (SimpleUploadedFile("lab.csv", b"code,value\n"), "no rows below its header"),
        (SimpleUploadedFile("lab.xlsx", b"not a workbook"), "cannot be read"),
        (SimpleUploadedFile("lab.csv", b"\xff\xfe\x00bad"), "neither UTF-8 nor GBK"),
        (SimpleUploadedFile("lab.csv", b"a" * (5 * 1024 * 1024 + 1)), "larger than 5 MB"),
    ],
)
def test_a_file_that_cannot_be_used_is_refused(clinician, order_of_two, upload, message):
    order, *_definitions = order_of_two
    answer = _preview(clinician, order, upload)
    assert answer.status_code == 422
    assert message in answer.content.decode()


def test_a_tampered_or_foreign_preview_is_refused(client_for, clinician, order_of_two):
    order, *_definitions = order_of_two
    preview = _preview(clinician, order, _csv("code,value\nJC101,5\n"))
    forged = clinician.post(_url(order), {"payload": "forged", "reason": ""}, **EN)
    assert forged.status_code == 422 and "expired" in forged.content.decode()
    other = order_with(*_definitions)
    payload = preview.context["confirm_form"].initial["payload"]
    moved = clinician.post(_url(other), {"payload": payload}, **EN)
    assert moved.status_code == 422
    admin = client_for(roles.ADMINISTRATOR)
    assert admin.post(_url(order), {"payload": payload}, **EN).status_code == 422
    assert not ExamResult.objects.exists()


def test_after_release_a_different_value_needs_a_reason_for_the_whole_import(
    clinician, order_of_two
):
    order, wbc, fungus = order_of_two
    record(order, wbc, number="5")
    record(order, fungus, text="阴性")
    release(order)
    preview = _preview(clinician, order, _csv("code,value\nJC101,8\nJC102,阴性\n"))
    assert _outcomes(preview) == [(2, "correction"), (3, "unchanged")]
    assert "Reason for the corrections" in preview.content.decode()
    _confirm(clinician, order, preview)  # no reason: the correction is left out
    assert ExamResult.objects.get(item=item_of(order, wbc)).value_number == 5
    _confirm(clinician, order, preview, reason="检验科复核")
    corrected = ExamResult.objects.get(item=item_of(order, wbc))
    assert corrected.value_number == 8 and corrected.revision == 2
    last = corrected.revisions.order_by("-revision").first()
    assert last.after_release and last.reason == "检验科复核" and last.source == "imported"


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES - roles.RESULT_ENTRY))
def test_only_the_examining_staff_import(client_for, role, order_of_two):
    order, *_definitions = order_of_two
    http = client_for(role)
    assert http.get(_url(order)).status_code == 403
    assert _preview(http, order, _csv("code,value\nJC101,5\n")).status_code == 403
