import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.admin import helpers
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.zhongdu.factories import (
    ClinicSessionFactory,
    DepartmentFactory,
    ExpertFactory,
    PriceItemFactory,
)
from zhongdu import roles
from zhongdu.models import ClinicSession, PriceItem

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
HEADER = "code,name,category,department,price,active,effective_date\n"
CSV_FORMAT = "0"  # the admin offers CSV first, then XLSX


def _csv(*rows):
    return SimpleUploadedFile(
        "prices.csv", (HEADER + "".join(f"{row}\n" for row in rows)).encode(), "text/csv"
    )


def _preview(client, upload):
    return client.post(
        reverse("admin:zhongdu_priceitem_import"),
        {"format": CSV_FORMAT, "import_file": upload},
        **EN,
    )


@pytest.fixture
def skin(db):
    return DepartmentFactory(name="皮肤科")


def test_every_directory_admin_page_opens_for_the_administrator(admin_client_):
    expert = ExpertFactory()
    session = ClinicSessionFactory(expert=expert)
    for name, args in [
        ("admin:zhongdu_department_changelist", []),
        ("admin:zhongdu_department_add", []),
        ("admin:zhongdu_expert_changelist", []),
        ("admin:zhongdu_expert_change", [expert.pk]),
        ("admin:zhongdu_sessiontemplate_changelist", []),
        ("admin:zhongdu_sessiontemplate_add", []),
        ("admin:zhongdu_clinicsession_changelist", []),
        ("admin:zhongdu_clinicsession_change", [session.pk]),
        ("admin:zhongdu_priceitem_changelist", []),
        ("admin:zhongdu_priceitem_import", []),
        ("admin:zhongdu_priceitem_export", []),
        ("admin:zhongdu_channel_changelist", []),
        ("admin:zhongdu_knowledgearticle_changelist", []),
    ]:
        assert admin_client_.get(reverse(name, args=args)).status_code == 200, name


def test_the_directory_admin_is_closed_to_other_roles(client_for):
    for role in roles.ALL_ROLES - {roles.ADMINISTRATOR}:
        response = client_for(role).get(reverse("admin:zhongdu_priceitem_changelist"))
        assert response.status_code == 403, role


def test_experts_choose_departments_in_a_two_sided_selector(admin_client_):
    body = admin_client_.get(reverse("admin:zhongdu_expert_add")).content.decode()
    assert "selectfilter" in body  # filter_horizontal's widget
    assert "templates-TOTAL_FORMS" in body  # the weekly clinics inline


# --- Clinic sessions ------------------------------------------------------------------------


def test_the_session_list_browses_by_date_and_shows_remaining_places(admin_client_):
    ClinicSessionFactory(capacity=20, booked=5)
    response = admin_client_.get(reverse("admin:zhongdu_clinicsession_changelist"), **EN)
    assert response.context["cl"].date_hierarchy == "date"
    assert response.context["cl"].result_count == 1
    assert "remaining" in response.content.decode().lower()


def test_capacity_below_booked_is_refused_in_the_change_form(admin_client_):
    session = ClinicSessionFactory(capacity=20, booked=6)
    response = admin_client_.post(
        reverse("admin:zhongdu_clinicsession_change", args=[session.pk]),
        {
            "template": "",
            "expert": session.expert_id,
            "department": session.department_id,
            "date": session.date.isoformat(),
            "start_time": "08:30",
            "end_time": "11:30",
            "capacity": "5",
        },
        **EN,
    )
    assert response.status_code == 200
    assert "The capacity cannot be lower than the 6 places already booked." in (
        response.content.decode()
    )
    assert ClinicSession.objects.get(pk=session.pk).capacity == 20


def test_capacity_can_be_changed_in_the_change_form(admin_client_):
    session = ClinicSessionFactory(capacity=20, booked=6)
    response = admin_client_.post(
        reverse("admin:zhongdu_clinicsession_change", args=[session.pk]),
        {
            "template": "",
            "expert": session.expert_id,
            "department": session.department_id,
            "date": session.date.isoformat(),
            "start_time": "08:30",
            "end_time": "11:30",
            "capacity": "6",
        },
    )
    assert response.status_code == 302
    assert ClinicSession.objects.get(pk=session.pk).capacity == 6


def _list_edit(client, session, capacity):
    return client.post(
        reverse("admin:zhongdu_clinicsession_changelist"),
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(session.pk),
            "form-0-capacity": str(capacity),
            "_save": "Save",
        },
        **EN,
    )


def test_capacity_below_booked_is_refused_in_the_list_too(admin_client_):
    session = ClinicSessionFactory(capacity=20, booked=6)
    response = _list_edit(admin_client_, session, 3)
    assert "The capacity cannot be lower than the 6 places already booked." in (
        response.content.decode()
    )
    assert ClinicSession.objects.get(pk=session.pk).capacity == 20
    assert _list_edit(admin_client_, session, 30).status_code == 302
    assert ClinicSession.objects.get(pk=session.pk).capacity == 30


def _cancel(client, sessions, **extra):
    return client.post(
        reverse("admin:zhongdu_clinicsession_changelist"),
        {
            "action": "cancel_sessions",
            helpers.ACTION_CHECKBOX_NAME: [str(s.pk) for s in sessions],
            **extra,
        },
        **EN,
    )


def test_cancelling_asks_for_a_reason_on_a_confirmation_page_first(admin_client_):
    sessions = ClinicSessionFactory.create_batch(2, booked=1)
    response = _cancel(admin_client_, sessions)
    assert response.status_code == 200
    body = response.content.decode()
    assert "These 2 sessions will be cancelled." in body
    assert 'name="reason"' in body
    assert body.count(f'name="{helpers.ACTION_CHECKBOX_NAME}"') == 2
    assert not ClinicSession.objects.filter(status=ClinicSession.Status.CANCELLED).exists()


def test_confirming_with_a_reason_cancels_the_sessions(admin_client_):
    sessions = ClinicSessionFactory.create_batch(2)
    untouched = ClinicSessionFactory()
    response = _cancel(admin_client_, sessions, apply="yes", reason="专家外出会诊")
    assert response.status_code == 302
    cancelled = ClinicSession.objects.filter(status=ClinicSession.Status.CANCELLED)
    assert {s.pk for s in cancelled} == {s.pk for s in sessions}
    assert {s.cancel_reason for s in cancelled} == {"专家外出会诊"}
    untouched.refresh_from_db()
    assert untouched.status == ClinicSession.Status.SCHEDULED
    messages = [str(m) for m in admin_client_.get(response["Location"]).context["messages"]]
    assert "2 sessions cancelled." in messages


def test_confirming_without_a_reason_shows_the_page_again(admin_client_):
    session = ClinicSessionFactory()
    response = _cancel(admin_client_, [session], apply="yes", reason="  ")
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    session.refresh_from_db()
    assert session.status == ClinicSession.Status.SCHEDULED


def test_sessions_cannot_be_deleted_only_cancelled(admin_client_):
    session = ClinicSessionFactory()
    response = admin_client_.get(reverse("admin:zhongdu_clinicsession_changelist"))
    assert "delete_selected" not in response.content.decode()
    assert (
        admin_client_.get(
            reverse("admin:zhongdu_clinicsession_delete", args=[session.pk])
        ).status_code
        == 403
    )


# --- Price list import and export -----------------------------------------------------------


def test_the_import_preview_shows_row_errors_and_saves_nothing(admin_client_, skin):
    response = _preview(
        admin_client_,
        _csv(
            "GH001,普通门诊挂号费,registration,皮肤科,10,,2026-01-01",
            "X1,坏行,cosmetics,不存在的科,-5,1,2026-01-01",
        ),
    )
    assert response.status_code == 200
    result = response.context["result"]
    assert result.has_validation_errors()
    assert "confirm_form" not in response.context  # nothing to confirm
    body = response.content.decode()
    assert "Unknown category “cosmetics”" in body
    assert "No department is named “不存在的科”." in body
    assert "A price cannot be negative." in body
    assert not PriceItem.objects.exists()


def test_a_price_that_is_not_a_number_is_a_row_error(admin_client_, skin):
    response = _preview(admin_client_, _csv("GH001,普通门诊挂号费,registration,皮肤科,ten,1,"))
    body = response.content.decode()
    assert "“ten” is not a price in yuan." in body
    assert not PriceItem.objects.exists()


def test_a_valid_file_is_previewed_then_saved_on_confirmation(admin_client_, skin):
    PriceItemFactory(code="GH001", name="旧名称", price=Decimal("8.00"))
    response = _preview(
        admin_client_,
        _csv(
            "GH001,普通门诊挂号费,registration,皮肤科,10.00,1,2026-01-01",
            "ZL003,液氮冷冻治疗（每个皮损）,treatment,,50,,2026-02-01",
        ),
    )
    assert not response.context["result"].has_validation_errors()
    assert PriceItem.objects.get(code="GH001").price == Decimal("8.00")  # not yet

    confirm = response.context["confirm_form"]
    response = admin_client_.post(
        reverse("admin:zhongdu_priceitem_process_import"),
        {name: confirm.initial[name] for name in confirm.fields},
    )
    assert response.status_code == 302

    updated = PriceItem.objects.get(code="GH001")
    assert (updated.name, updated.price, updated.department) == ("普通门诊挂号费", 10, skin)
    created = PriceItem.objects.get(code="ZL003")
    assert created.category == PriceItem.Category.TREATMENT
    assert created.department is None
    assert created.active is True
    assert created.effective_date == date(2026, 2, 1)
    assert PriceItem.objects.count() == 2


def test_the_export_writes_the_columns_the_import_reads(admin_client_, skin):
    PriceItemFactory(
        code="JC001",
        name="皮肤镜检查",
        category=PriceItem.Category.EXAM,
        department=skin,
        price=Decimal("150.00"),
        effective_date=date(2026, 1, 1),
    )
    url = reverse("admin:zhongdu_priceitem_export")
    form = admin_client_.get(url).context["form"]
    selected = {name: "on" for name, field in form.fields.items() if field.initial is True}
    response = admin_client_.post(url, {"format": CSV_FORMAT, "resource": "0", **selected})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [
        {
            "code": "JC001",
            "name": "皮肤镜检查",
            "category": "exam",
            "department": "皮肤科",
            "price": "150.00",
            "active": "1",
            "effective_date": "2026-01-01",
        }
    ]
