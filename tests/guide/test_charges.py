"""Charges: voiding a line (/guide/charges/<id>/void/), and the billing system's file of charges
(/guide/charges/import/: upload, preview, confirm)."""

import datetime
import io
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import Workbook

from guide import imports, selectors, services
from guide.models import Charge, ChargeImport, Visit, VisitEvent
from zhongdu import roles
from zhongdu.models import AuditEvent, PriceItem

from .factories import checked_in, price, walk_in

pytestmark = pytest.mark.django_db

UPLOAD = reverse("guide:charge_import_upload")
HEADER = "就诊号,项目编码,数量,金额,流水号,收费时间"
IMPORTERS = sorted({roles.FRONT_DESK, roles.ADMINISTRATOR})
NOT_IMPORTERS = sorted(roles.ALL_ROLES - set(IMPORTERS))


def flashes(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def local(text):
    """'2026-11-29 09:30' by the hospital's clock, as an aware time."""
    moment = datetime.datetime.strptime(text, "%Y-%m-%d %H:%M")  # noqa: DTZ007
    return timezone.make_aware(moment, timezone.get_default_timezone())


@pytest.fixture
def visit():
    return checked_in()


@pytest.fixture
def items():
    return {
        "GH001": price("GH001", "20.00"),
        "ZL001": price("ZL001", "100.00", category=PriceItem.Category.TREATMENT),
        "OLD01": price("OLD01", "50.00", active=False),
    }


def upload(http, content, name="charges.csv", encoding="utf-8"):
    data = content.encode(encoding) if isinstance(content, str) else content
    return http.post(UPLOAD, {"file": SimpleUploadedFile(name, data)}, HTTP_ACCEPT_LANGUAGE="en")


def confirm(http, job):
    return http.post(
        reverse("guide:charge_import_confirm", args=[job.token]), HTTP_ACCEPT_LANGUAGE="en"
    )


def parse(text, name="charges.csv"):
    with translation.override("en"):
        return imports.parse_charges(name, text.encode())


# --- Voiding a charge -------------------------------------------------------------------


def void(http, charge, reason="录错了"):
    return http.post(
        reverse("guide:charge_void", args=[charge.pk]),
        {"reason": reason},
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_a_voided_line_leaves_the_clients_spend_and_the_visit_page_says_so(
    front_desk_client, visit, items
):
    kept = services.charge_add(visit=visit, price_item=items["GH001"], by=None)
    wrong = services.charge_add(visit=visit, price_item=items["ZL001"], quantity=2, by=None)
    assert selectors.client_spend(client_id=visit.client_id) == Decimal("220.00")

    response = void(front_desk_client, wrong, reason="  录错了  ")
    assert response.status_code == 302
    assert response["Location"] == reverse("guide:visit_detail", args=[visit.pk])
    assert flashes(response) == [
        "The charge was voided: it no longer counts in the bill or the spend."
    ]
    wrong.refresh_from_db()
    assert wrong.is_void and wrong.void_reason == "录错了"
    assert wrong.voided_by.username == "t_frontdesk"
    kept.refresh_from_db()
    assert not kept.is_void
    assert selectors.client_spend(client_id=visit.client_id) == Decimal("20.00")
    event = VisitEvent.objects.get(visit=visit, action=VisitEvent.Action.CHARGE_VOIDED)
    assert "录错了" in event.detail
    audit = AuditEvent.objects.get(object_type="guide.charge", object_id=str(wrong.pk))
    assert audit.action == "update" and audit.reason == "录错了"
    assert audit.actor_username == "t_frontdesk"


def test_voiding_needs_a_reason(front_desk_client, visit, items):
    charge = services.charge_add(visit=visit, price_item=items["GH001"], by=None)
    response = void(front_desk_client, charge, reason="   ")
    assert response["Location"] == reverse("guide:visit_detail", args=[visit.pk])
    assert flashes(response) == ["Give the reason for voiding this charge."]
    charge.refresh_from_db()
    assert not charge.is_void


def test_a_charge_is_voided_once(front_desk_client, visit, items):
    charge = services.charge_add(visit=visit, price_item=items["GH001"], by=None)
    void(front_desk_client, charge, reason="第一次")
    response = void(front_desk_client, charge, reason="第二次")
    assert flashes(response)[-1] == "This charge has already been voided."
    charge.refresh_from_db()
    assert charge.void_reason == "第一次"
    assert VisitEvent.objects.filter(action=VisitEvent.Action.CHARGE_VOIDED).count() == 1


def test_voiding_refuses_a_get_and_answers_404_for_no_charge(front_desk_client, visit, items):
    charge = services.charge_add(visit=visit, price_item=items["GH001"], by=None)
    assert front_desk_client.get(reverse("guide:charge_void", args=[charge.pk])).status_code == 405
    assert void(front_desk_client, Charge(pk=999999)).status_code == 404


@pytest.mark.parametrize("role", [roles.FRONT_DESK, roles.VIP_MANAGER, roles.ADMINISTRATOR])
def test_the_desk_may_void(client_for, role, visit, items):
    charge = services.charge_add(visit=visit, price_item=items["GH001"], by=None)
    assert void(client_for(role), charge).status_code == 302
    charge.refresh_from_db()
    assert charge.is_void


@pytest.mark.parametrize("role", [roles.CONSULTANT, roles.CLIENT_MANAGER, roles.MANAGER], ids=str)
def test_others_may_not_void(client_for, role, visit, items):
    charge = services.charge_add(visit=visit, price_item=items["GH001"], by=None)
    assert void(client_for(role), charge).status_code == 403
    charge.refresh_from_db()
    assert not charge.is_void


def test_the_charge_helper_lets_readers_read_and_only_the_desk_write(role_user, visit, items):
    charge = services.charge_add(visit=visit, price_item=items["GH001"], by=None)
    manager = role_user(roles.CLIENT_MANAGER)
    assert selectors.charge_get_for_user(manager, charge.pk) == charge
    with pytest.raises(PermissionDenied):
        selectors.charge_get_for_user(manager, charge.pk, write=True)
    with pytest.raises(PermissionDenied):
        selectors.charge_get_for_user(role_user(roles.CONSULTANT), charge.pk)
    desk = role_user(roles.FRONT_DESK)
    assert selectors.charge_get_for_user(desk, charge.pk, write=True).visit == visit


# --- Importing the billing file ---------------------------------------------------------


def test_a_good_csv_is_previewed_then_imported_as_charges_from_billing(
    front_desk_client, visit, items
):
    content = (
        f"{HEADER}\n"
        f"{visit.pk},GH001,2,,B-1,2026-11-29 09:30\n"  # amount from the price list
        f"{visit.pk},ZL001,1,80.00,B-2,\n"  # a discount; charged when imported
        ",,,,,\n"  # a blank line is no row
    )
    response = upload(front_desk_client, content)
    job = ChargeImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == job.get_absolute_url()
    assert Charge.objects.count() == 0  # nothing charged before the confirmation
    assert job.status == ChargeImport.Status.PREVIEW and job.uploaded_by.username == "t_frontdesk"
    assert [row["visit"] for row in job.rows] == [visit.pk, visit.pk]  # ids, not objects
    assert job.rows[0]["amount"] == "40.00" and job.rows[0]["price_item"] == items["GH001"].pk

    page = front_desk_client.get(job.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.context["counts"] == {"valid": 2, "invalid": 0, "already_imported": 0}
    assert "2 rows will be imported;" in html
    assert "40.00 (price list)" in html and "when imported" in html
    assert reverse("guide:visit_detail", args=[visit.pk]) in html

    before = timezone.now()
    response = confirm(front_desk_client, job)
    assert response["Location"] == job.get_absolute_url()
    assert flashes(response) == ["2 charges imported."]
    first, second = Charge.objects.order_by("reference")
    assert (first.reference, first.quantity, first.amount) == ("B-1", 2, Decimal("40.00"))
    assert first.charged_at == local("2026-11-29 09:30")
    assert (second.reference, second.amount, second.unit_price) == (
        "B-2",
        Decimal("80.00"),
        Decimal("100.00"),
    )
    assert second.charged_at >= before
    assert {c.source for c in (first, second)} == {Charge.Source.IMPORT}
    assert {c.client_id for c in (first, second)} == {visit.client_id}
    assert first.created_by.username == "t_frontdesk"
    job.refresh_from_db()
    assert job.status == ChargeImport.Status.DONE and job.imported_at is not None
    assert job.result == {"imported": 2, "duplicate": 0, "failed": 0, "invalid": 0}
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.CREATE, object_type="guide.chargeimport"
    ).exists()

    done = front_desk_client.get(job.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    body = done.content.decode()
    assert 'data-testid="import-result"' in body and 'data-testid="confirm"' not in body
    assert [row.status_label for row in done.context["rows"]] == ["Imported", "Imported"]


def test_english_headers_and_a_gbk_encoded_csv_are_read(front_desk_client, visit, items):
    english = f"visit,code,quantity,reference\n{visit.pk},GH001,1,E-1\n"
    assert [row.status for row in parse(english)] == [imports.VALID]

    chinese = f"{HEADER}\n{visit.pk},GH001,1,,挂号-0001,\n"
    upload(front_desk_client, chinese, encoding="gbk")
    job = ChargeImport.objects.get()
    assert job.rows[0]["reference"] == "挂号-0001" and job.rows[0]["errors"] == []
    confirm(front_desk_client, job)
    assert Charge.objects.get().reference == "挂号-0001"


def test_a_good_xlsx_keeps_the_time_of_each_charge(front_desk_client, visit, items):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["就诊号", "项目编码", "数量", "金额", "流水号", "收费时间"])
    # Excel keeps numbers as numbers and times as date-times.
    # Excel has no time zones: a cell holds the wall-clock time of the billing system.
    two_five = datetime.datetime(2026, 11, 29, 14, 5)  # noqa: DTZ001
    sheet.append([visit.pk, "GH001", 3, 55.5, 20261129001, two_five])
    sheet.append([visit.pk, "ZL001", None, None, "X-2", "2026-11-29 15:00"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    upload(front_desk_client, buffer.getvalue(), name="账单.xlsx")
    job = ChargeImport.objects.get()
    assert job.file_name == "账单.xlsx"
    assert [row["errors"] for row in job.rows] == [[], []]
    confirm(front_desk_client, job)
    first = Charge.objects.get(reference="20261129001")
    assert (first.quantity, first.amount) == (3, Decimal("55.50"))
    assert first.charged_at == local("2026-11-29 14:05")
    second = Charge.objects.get(reference="X-2")
    assert (second.quantity, second.amount) == (1, Decimal("100.00"))


@pytest.mark.parametrize(
    "cells,message",
    [
        ("abc,GH001,1,,R", "Write the visit number as shown on the visit page, e.g. 1024."),
        ("999999,GH001,1,,R", "There is no visit number 999999."),
        ("{visit},XX999,1,,R", "There is no price item with the code XX999."),
        ("{visit},OLD01,1,,R", "OLD01 is no longer on the price list."),
        ("{visit},,1,,R", "The item code (项目编码) is missing."),
        ("{visit},GH001,0,,R", "The quantity must be between 1 and 999."),
        ("{visit},GH001,1000,,R", "The quantity must be between 1 and 999."),
        ("{visit},GH001,1.5,,R", "The quantity must be a whole number."),
        ("{visit},GH001,two,,R", "The quantity must be a whole number."),
        ("{visit},GH001,1,-5,R", "The amount cannot be negative."),
        ("{visit},GH001,1,lots,R", "The amount must be a number of yuan, e.g. 20.00."),
        ("{visit},GH001,1,1.234,R", "The amount must be in yuan with at most two decimals."),
        ("{visit},GH001,1,,", "The billing reference (流水号) is missing."),
        ("{visit},GH001,1,,R,29/11/2026", "Write the time of the charge as 2026-11-29 09:30."),
    ],
)
def test_each_bad_row_says_what_is_wrong(visit, items, cells, message):
    (row,) = parse(f"{HEADER}\n{cells.format(visit=visit.pk)}\n")
    assert row.errors == [message]
    assert row.status == imports.INVALID


def test_a_visit_that_left_takes_no_charge(items):
    left = walk_in()
    services.visit_set_status(visit=left, new_status=Visit.Status.LEFT, by=None)
    (row,) = parse(f"{HEADER}\n{left.pk},GH001,1,,R-1\n")
    assert row.errors == [f"Visit {left.pk} left without being seen: nothing to charge."]


def test_the_preview_shows_every_bad_row_and_confirming_imports_only_the_good_ones(
    front_desk_client, visit, items
):
    content = (
        f"{HEADER}\n"
        f"{visit.pk},GH001,1,,G-1,\n"
        f"{visit.pk},XX999,1,,G-2,\n"
        f"{visit.pk},GH001,0,-1,G-3,\n"
    )
    upload(front_desk_client, content)
    job = ChargeImport.objects.get()
    page = front_desk_client.get(job.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.context["counts"] == {"valid": 1, "invalid": 2, "already_imported": 0}
    assert "There is no price item with the code XX999." in html
    assert "The quantity must be between 1 and 999. The amount cannot be negative." in html
    problems = front_desk_client.get(job.get_absolute_url() + "?problems=1")
    assert [row.row for row in problems.context["rows"]] == [3, 4]

    confirm(front_desk_client, job)
    assert list(Charge.objects.values_list("reference", flat=True)) == ["G-1"]
    job.refresh_from_db()
    assert job.result == {"imported": 1, "duplicate": 0, "failed": 0, "invalid": 2}


def test_a_reference_repeated_in_the_file_is_refused_after_its_first_row(visit, items):
    rows = parse(f"{HEADER}\n{visit.pk},GH001,1,,D-1,\n{visit.pk},ZL001,1,,D-1,\n")
    assert rows[0].errors == []
    assert rows[1].errors == ["The same billing reference as row 2."]


def test_lines_imported_before_are_shown_and_not_charged_again(front_desk_client, visit, items):
    content = f"{HEADER}\n{visit.pk},GH001,1,,A-1,\n{visit.pk},ZL001,1,,A-2,\n"
    upload(front_desk_client, content)
    confirm(front_desk_client, ChargeImport.objects.get())
    # The same file again, with one new line.
    upload(front_desk_client, content + f"{visit.pk},GH001,1,,A-3,\n")
    again = ChargeImport.objects.latest("pk")
    page = front_desk_client.get(again.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert page.context["counts"] == {"valid": 1, "invalid": 0, "already_imported": 2}
    assert "2 rows were imported before." in page.content.decode()
    assert [row.status_label for row in page.context["rows"]][:2] == ["Imported before"] * 2
    confirm(front_desk_client, again)
    assert Charge.objects.count() == 3
    again.refresh_from_db()
    assert again.result == {"imported": 1, "duplicate": 2, "failed": 0, "invalid": 0}


def test_confirming_twice_adds_nothing(front_desk_client, visit, items):
    upload(front_desk_client, f"{HEADER}\n{visit.pk},GH001,1,,T-1,\n")
    job = ChargeImport.objects.get()
    confirm(front_desk_client, job)
    response = confirm(front_desk_client, job)
    assert flashes(response)[-1] == (
        "This file has already been imported; nothing was added again."
    )
    assert Charge.objects.count() == 1
    job.refresh_from_db()
    assert job.result["imported"] == 1


def test_two_uploads_of_one_file_confirmed_one_after_the_other_charge_once(
    front_desk_client, visit, items
):
    content = f"{HEADER}\n{visit.pk},GH001,1,,W-1,\n"
    upload(front_desk_client, content)
    upload(front_desk_client, content)
    first, second = ChargeImport.objects.order_by("pk")
    confirm(front_desk_client, first)
    confirm(front_desk_client, second)  # previewed before the first was confirmed
    assert Charge.objects.filter(reference="W-1").count() == 1
    second.refresh_from_db()
    assert second.result == {"imported": 0, "duplicate": 1, "failed": 0, "invalid": 0}


def test_rows_are_checked_again_when_confirmed(front_desk_client, visit, items):
    other = walk_in()
    content = (
        f"{HEADER}\n{visit.pk},GH001,1,,C-1,\n{other.pk},GH001,1,,C-2,\n{visit.pk},ZL001,1,,C-3,\n"
    )
    upload(front_desk_client, content)
    # Between the preview and the confirmation, one client leaves and an item is withdrawn.
    services.visit_set_status(visit=other, new_status=Visit.Status.LEFT, by=None)
    PriceItem.objects.filter(code="ZL001").update(active=False)
    confirm(front_desk_client, ChargeImport.objects.get())
    assert Charge.objects.get().reference == "C-1"
    job = ChargeImport.objects.get()
    assert job.result == {"imported": 1, "duplicate": 0, "failed": 2, "invalid": 0}
    page = front_desk_client.get(job.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert [row.status_label for row in page.context["rows"]] == [
        "Imported",
        "Refused on import",
        "Refused on import",
    ]


def test_stored_rows_come_back_as_the_same_objects(visit, items):
    (row,) = parse(f"{HEADER}\n{visit.pk},ZL001,2,150.50,J-1,2026-11-29 08:15\n")
    (again,) = imports.rows_from_json([row.to_json()])
    assert (again.visit, again.price_item) == (visit, items["ZL001"])
    assert (again.quantity, again.amount, again.reference) == (2, Decimal("150.50"), "J-1")
    assert again.charged_at == local("2026-11-29 08:15")
    assert again.errors == [] and again.status == imports.VALID


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("charges.pdf", b"%PDF-1.4", "Upload a .csv or .xlsx file."),
        ("charges.xlsx", b"not a workbook", "This Excel file cannot be read."),
        ("charges.csv", "就诊号,项目编码\n1,GH001\n", "missing: 流水号 (reference)."),
        ("charges.csv", f"{HEADER}\n", "The file has no rows below its header."),
        ("charges.csv", "\n\n", "The file is empty."),
        ("charges.csv", b"\xff\xfe\x00\xd8\x00\xdc", "The file is neither UTF-8 nor GBK text."),
        ("charges.csv", f"{HEADER}\n1,{'x' * 200_000}\n", "This CSV file cannot be read."),
    ],
)
def test_a_file_that_cannot_be_used_is_refused_on_the_upload_page_and_nothing_is_saved(
    front_desk_client, name, content, message
):
    response = upload(front_desk_client, content, name=name)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not ChargeImport.objects.exists()


def test_a_file_of_more_than_5000_rows_is_refused(front_desk_client, visit, items):
    rows = "".join(f"{visit.pk},GH001,1,,M-{n},\n" for n in range(imports.MAX_ROWS + 1))
    response = upload(front_desk_client, f"{HEADER}\n{rows}")
    assert "At most 5,000 rows per file; split the file." in response.content.decode()
    assert not ChargeImport.objects.exists()


def test_the_upload_page_shows_a_sample_header_line(front_desk_client):
    page = front_desk_client.get(UPLOAD, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert imports.SAMPLE_HEADER in html
    assert 'enctype="multipart/form-data"' in html


def test_an_unknown_import_is_not_found(front_desk_client):
    url = reverse("guide:charge_import_detail", args=["00000000-0000-0000-0000-000000000000"])
    assert front_desk_client.get(url).status_code == 404


def test_confirming_refuses_a_get(front_desk_client, visit, items):
    upload(front_desk_client, f"{HEADER}\n{visit.pk},GH001,1,,G-1,\n")
    job = ChargeImport.objects.get()
    url = reverse("guide:charge_import_confirm", args=[job.token])
    assert front_desk_client.get(url).status_code == 405
    assert not Charge.objects.exists()


@pytest.mark.parametrize("role", IMPORTERS)
def test_the_front_desk_and_administrators_import(client_for, role, visit, items):
    http = client_for(role)
    assert http.get(UPLOAD).status_code == 200
    upload(http, f"{HEADER}\n{visit.pk},GH001,1,,R-{role},\n")
    job = ChargeImport.objects.get()
    assert http.get(job.get_absolute_url()).status_code == 200
    assert confirm(http, job).status_code == 302
    assert Charge.objects.count() == 1


@pytest.mark.parametrize("role", NOT_IMPORTERS)
def test_other_roles_may_not_import(client_for, role_user, role, visit, items):
    job = ChargeImport.objects.create(
        file_name="x.csv",
        uploaded_by=role_user(roles.FRONT_DESK),
        rows=[row.to_json() for row in parse(f"{HEADER}\n{visit.pk},GH001,1,,N-1,\n")],
    )
    http = client_for(role)
    assert http.get(UPLOAD).status_code == 403
    assert upload(http, f"{HEADER}\n{visit.pk},GH001,1,,N-2,\n").status_code == 403
    assert http.get(job.get_absolute_url()).status_code == 403
    assert confirm(http, job).status_code == 403
    assert not Charge.objects.exists()
    assert ChargeImport.objects.count() == 1
