"""The monthly packs: this month's previewed, a missing month's made by a manager (once), and
every pack downloaded as an A4 PDF (WeasyPrint) as well as Excel, each download audited."""

import datetime
import io

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from reports import packs, satisfaction
from reports.models import MonthlyReport
from zhongdu import pdf, roles
from zhongdu.models import AuditEvent

pytestmark = pytest.mark.django_db


def _last_month():
    return satisfaction.previous_month(timezone.localdate())


def _messages(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def _pdf_text(content: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(content))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def test_the_preview_shows_this_month_to_date_marked_as_a_preview(manager_client):
    response = manager_client.get(reverse("reports:pack_preview"))
    assert response.status_code == 200
    month = f"{timezone.localdate():%Y-%m}"
    assert response.context["data"]["month"] == month
    assert response.context["preview"] is True
    html = response.content.decode()
    assert 'data-testid="preview"' in html and reverse("reports:pack_preview_pdf") in html
    # Looking makes nothing: no pack exists until the month has ended.
    assert not MonthlyReport.objects.filter(is_pack=True).exists()


def test_the_pack_list_offers_the_preview_and_the_missing_months(manager_client):
    page = manager_client.get(reverse("reports:pack_list"))
    html = page.content.decode()
    assert reverse("reports:pack_preview") in html
    assert f'value="{_last_month():%Y-%m}"' in html  # in the form that makes a missing pack
    packs.pack_generate(month=_last_month())
    html = manager_client.get(reverse("reports:pack_list")).content.decode()
    assert f'value="{_last_month():%Y-%m}"' not in html
    assert reverse("reports:pack_pdf", args=[MonthlyReport.objects.get(is_pack=True).pk]) in html


def test_a_manager_makes_a_missing_pack_once_however_often_they_click(manager_client):
    month = _last_month()
    form = {"month": f"{month:%Y-%m}", "confirm": "on"}
    first = manager_client.post(reverse("reports:pack_make"), form)
    pack = MonthlyReport.objects.get(is_pack=True)
    assert first.status_code == 302 and first.url == pack.get_absolute_url()
    assert pack.month == month and pack.generated_by.username == "t_manager"
    assert "previous" in pack.data and pack.data["month"] == f"{month:%Y-%m}"
    second = manager_client.post(reverse("reports:pack_make"), form, HTTP_ACCEPT_LANGUAGE="en")
    assert second.status_code == 302 and second.url == pack.get_absolute_url()
    assert "was made already" in " ".join(_messages(second))
    assert MonthlyReport.objects.filter(is_pack=True).count() == 1
    assert (
        AuditEvent.objects.filter(
            action="create", object_type="reports.monthlyreport", object_id=str(pack.pk)
        ).count()
        == 1
    )


def test_the_service_finds_the_first_pack_instead_of_making_a_second(role_user):
    manager = role_user(roles.MANAGER)
    first, made = packs.pack_make(month=_last_month(), by=manager)
    again, made_again = packs.pack_make(month=_last_month(), by=manager)
    assert made and not made_again and again.pk == first.pk


@pytest.mark.parametrize(
    "form",
    [
        {"month": "2026-13", "confirm": "on"},
        {"month": "x\x00y", "confirm": "on"},
        {"confirm": "on"},
        {"month": "this-month", "confirm": "on"},
        {"month": "1990-01", "confirm": "on"},
    ],
)
def test_a_bad_month_or_no_confirmation_makes_nothing(manager_client, form):
    if form.get("month") == "this-month":
        form = {**form, "month": f"{timezone.localdate():%Y-%m}"}
    response = manager_client.post(reverse("reports:pack_make"), form)
    assert response.status_code in (302, 400)
    assert not MonthlyReport.objects.filter(is_pack=True).exists()


def test_making_a_pack_needs_the_confirmation(manager_client):
    response = manager_client.post(
        reverse("reports:pack_make"),
        {"month": f"{_last_month():%Y-%m}"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "Tick the box to confirm." in response.content.decode()
    assert not MonthlyReport.objects.filter(is_pack=True).exists()


def test_making_a_pack_is_a_post_and_only_for_the_report_readers(client_for):
    url = reverse("reports:pack_make")
    form = {"month": f"{_last_month():%Y-%m}", "confirm": "on"}
    assert client_for(roles.MANAGER).get(url).status_code == 405
    for role in sorted(roles.ALL_ROLES - {roles.MANAGER, roles.ADMINISTRATOR}):
        assert client_for(role).post(url, form).status_code in (302, 403), role
        assert not MonthlyReport.objects.filter(is_pack=True).exists(), role
    assert client_for(None).post(url, form).status_code == 302  # to the sign-in
    assert not MonthlyReport.objects.filter(is_pack=True).exists()


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES))
def test_only_report_readers_preview_and_download_packs(client_for, role):
    pack = packs.pack_generate(month=_last_month())
    allowed = role in {roles.MANAGER, roles.ADMINISTRATOR}
    for url in (
        reverse("reports:pack_preview"),
        reverse("reports:pack_pdf", args=[pack.pk]),
    ):
        status = client_for(role).get(url).status_code
        assert (status == 200) == allowed, (url, status)


def test_a_pack_downloads_as_an_a4_pdf_naming_the_hospital_in_chinese(client_for):
    pack = packs.pack_generate(month=_last_month())
    client = client_for(roles.MANAGER)
    response = client.get(
        reverse("reports:pack_pdf", args=[pack.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == pdf.PDF_TYPE
    assert f'filename="pack-{pack.month:%Y-%m}.pdf"' in response["Content-Disposition"]
    reader, text = _pdf_text(response.content)
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 595.3) < 1 and abs(float(box.height) - 841.9) < 1  # A4
    assert "中都医院" in text
    assert f"月度满意度报告 · {pack.month:%Y-%m}" in text
    assert "按维度" in text
    assert AuditEvent.objects.filter(
        action="export", object_type="reports.satisfaction", object_repr__contains="(PDF)"
    ).exists()


def test_the_preview_downloads_as_a_pdf_marked_as_a_preview(manager_client):
    response = manager_client.get(reverse("reports:pack_preview_pdf"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    _reader, text = _pdf_text(response.content)
    assert "Zhongdu Hospital" in text and "Preview" in text
    assert f"{timezone.localdate():%Y-%m} to date" in text
    assert AuditEvent.objects.filter(action="export", object_type="reports.satisfaction").exists()


def test_a_pack_still_downloads_as_excel_through_the_export_builder(manager_client):
    pack = packs.pack_generate(month=_last_month())
    response = manager_client.get(reverse("reports:pack_export", args=[pack.pk]))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.worksheets[0].cell(1, 2).value == f"{pack.month:%Y-%m}"


def test_the_pdf_renderer_fetches_nothing():
    with pytest.raises(ValueError, match="fetch nothing"):
        pdf._no_fetching("http://169.254.169.254/latest/")
    with pytest.raises(ValueError, match="fetch nothing"):
        pdf._no_fetching("file:///etc/passwd")


def test_the_months_without_a_pack_are_the_closed_ones_of_two_years():
    today = datetime.date(2026, 3, 15)
    months = packs.months_without_pack(today=today)
    assert months[0] == datetime.date(2026, 2, 1) and len(months) == packs.MAKE_MONTHS
    MonthlyReport.objects.create(month=datetime.date(2026, 2, 1), is_pack=True)
    assert packs.months_without_pack(today=today)[0] == datetime.date(2026, 1, 1)
