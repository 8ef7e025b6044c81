"""NUL and the other control characters are refused at the edge, with a clear message, never
with a server error and never into a stored row (zhongdu.controlchars). Postgres cannot hold a
NUL, so these tests matter in the Postgres mode: on SQLite the old errors did not show."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as Browser
from django.urls import reverse
from twilio.request_validator import RequestValidator

from clientmgmt.models import Client, ClientImport
from messaging.models import InboundMessage
from tests.guide.factories import price, walk_in
from tests.vip.factories import enterprise
from tests.zhongdu.factories import DepartmentFactory
from zhongdu import roles
from zhongdu.controlchars import cells_checked, has_control_characters, strip_control_characters
from zhongdu.models import PriceItem

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
REFUSED = "The address or the form contains a control character"


def _browser(client_for, role):
    """A signed-in test client that answers a server error with its status, as a browser sees
    it, instead of raising."""
    browser = client_for(role)
    browser.raise_request_exception = False
    return browser


def _upload(name, text):
    return SimpleUploadedFile(name, text.encode())


# --- The rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\x9f"])
def test_c0_c1_controls_and_del_are_control_characters(char):
    assert has_control_characters(f"张{char}三")
    assert has_control_characters(f"张{char}三", multiline=True)
    assert strip_control_characters(f"张{char}三") == "张三"


def test_tab_and_newlines_are_text_only_in_multi_line_fields():
    assert has_control_characters("一行\r\n两行\t")
    assert not has_control_characters("一行\r\n两行\t", multiline=True)
    assert strip_control_characters("a\r\nb\tc\x00", multiline=True) == "a\r\nb\tc"


def test_ordinary_chinese_and_punctuation_are_not_control_characters():
    assert not has_control_characters("张三（VIP）· 138-1234-5678 “备注”…")


def test_an_imported_row_with_one_is_cleaned_and_carries_an_error():
    cells, errors = cells_checked({"name": "张\x00三", "notes": "甲\n乙"}, multiline=("notes",))
    assert cells == {"name": "张三", "notes": "甲\n乙"}
    assert len(errors) == 1


# --- The cases found answering 500 on Postgres ------------------------------------------------


def test_a_survey_address_with_nul_is_a_400_page_for_an_anonymous_visitor():
    response = Browser(raise_request_exception=False).get("/s/%00/", **EN)
    assert response.status_code == 400
    assert REFUSED in response.content.decode()


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES))
def test_a_desk_search_with_nul_is_a_400_page_for_every_role(client_for, role):
    response = _browser(client_for, role).get("/desk/?q=%00", **EN)
    assert response.status_code == 400
    assert REFUSED in response.content.decode()


def test_the_400_page_is_in_chinese_by_default(client_for):
    response = _browser(client_for, roles.FRONT_DESK).get("/desk/?q=%00")
    assert "地址或表单中含有控制字符" in response.content.decode()


def test_a_client_import_with_nul_in_a_name_reports_the_row_and_imports_nothing(client_for):
    browser = _browser(client_for, roles.CLIENT_MANAGER)
    csv = "姓名,手机\n张\x00三,13912345678\n李四,13912345679\n"
    response = browser.post(
        reverse("clientmgmt:import_upload"), {"file": _upload("clients.csv", csv)}, **EN
    )
    assert response.status_code == 302
    job = ClientImport.objects.get()
    rows = {row.row_number: row for row in job.rows.all()}
    assert rows[2].display["name"] == "张三"
    assert any("control character" in error for error in rows[2].errors)
    assert rows[3].errors == []
    page = browser.get(job.get_absolute_url(), **EN)
    assert "control character (such as NUL)" in page.content.decode()
    assert not Client.objects.exists()


def test_an_excel_client_list_with_a_control_character_reports_the_row(client_for):
    import io

    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["姓名", "手机"])
    # XML cannot hold NUL (such a file is unreadable, and said so), but DEL and C1 it can.
    book.active.append(["张\x7f三\x85", "13912345678"])
    buffer = io.BytesIO()
    book.save(buffer)
    browser = _browser(client_for, roles.CLIENT_MANAGER)
    upload = SimpleUploadedFile("clients.xlsx", buffer.getvalue())
    assert browser.post(reverse("clientmgmt:import_upload"), {"file": upload}).status_code == 302
    (row,) = ClientImport.objects.get().rows.all()
    assert row.errors and row.display["name"] == "张三"


def test_a_billing_file_with_nul_reports_the_row(client_for):
    visit = walk_in()
    price(code="GH001")
    csv = f"就诊号,项目编码,流水号\n{visit.pk},GH\x00001,R-1\n{visit.pk},GH001,R-\x002\n"
    browser = _browser(client_for, roles.FRONT_DESK)
    response = browser.post(
        reverse("guide:charge_import_upload"), {"file": _upload("charges.csv", csv)}, **EN
    )
    assert response.status_code == 302
    page = browser.get(response["Location"], **EN)
    assert page.status_code == 200
    assert page.content.decode().count("control character (such as NUL)") == 2


def test_an_employee_list_with_nul_reports_the_row(client_for):
    firm = enterprise()
    csv = "姓名,手机\n张\x00三,13912345678\n"
    browser = _browser(client_for, roles.VIP_MANAGER)
    url = reverse("vip:enterprise_import", args=[firm.pk])
    page = browser.post(url, {"file": _upload("staff.csv", csv)}, **EN)
    assert page.status_code == 200
    (row,) = page.context["rows"]
    assert row.name == "张三" and row.outcome == "invalid"
    assert "control character (such as NUL)" in page.content.decode()


def test_a_price_list_with_nul_is_a_row_error_in_the_admin_preview(client_for):
    DepartmentFactory(name="皮肤科")
    csv = (
        "code,name,category,department,price,active,effective_date\n"
        "GH\x00001,普通门诊挂号费,registration,皮肤科,10,,2026-01-01\n"
    )
    browser = _browser(client_for, roles.ADMINISTRATOR)
    response = browser.post(
        reverse("admin:zhongdu_priceitem_import"),
        {"format": "0", "import_file": _upload("prices.csv", csv)},
        **EN,
    )
    assert response.status_code == 200
    assert response.context["result"].has_validation_errors()
    assert "confirm_form" not in response.context
    assert "control character (such as NUL)" in response.content.decode()
    assert not PriceItem.objects.exists()


# --- Forms, files and the webhooks ------------------------------------------------------------


def test_a_posted_name_with_nul_is_refused_and_nothing_is_stored(client_for):
    browser = _browser(client_for, roles.FRONT_DESK)
    data = {"name": "张\x00三", "sex": "female", "phone": "13912345678"}
    response = browser.post(reverse("clientmgmt:client_create"), data, **EN)
    assert response.status_code == 400
    assert REFUSED in response.content.decode()
    assert not Client.objects.exists()


def test_lines_and_tabs_in_a_posted_note_reach_the_form(client_for):
    browser = _browser(client_for, roles.FRONT_DESK)
    data = {"name": "", "sex": "female", "notes": "第一行\r\n第二行\t完"}
    response = browser.post(reverse("clientmgmt:client_create"), data, **EN)
    assert response.status_code not in (400, 500)
    assert "Enter the client" in response.content.decode() or "required" in str(response.content)
    assert REFUSED not in response.content.decode()


def test_a_file_name_with_control_characters_is_stored_without_them(client_for):
    browser = _browser(client_for, roles.CLIENT_MANAGER)
    upload = _upload("clients\x00\x01.csv", "姓名,手机\n张三,13912345678\n")
    response = browser.post(reverse("clientmgmt:import_upload"), {"file": upload}, **EN)
    assert response.status_code == 302
    assert ClientImport.objects.get().file_name == "clients.csv"


def test_an_inbound_sms_with_control_characters_is_taken_without_them(client, settings):
    settings.TWILIO_AUTH_TOKEN = "f" * 32
    settings.PUBLIC_BASE_URL = "https://kefu.zhongdu.example"
    path = reverse("messaging:twilio_inbound")
    params = {"MessageSid": "SM\x00" + "a" * 32, "From": "+8613912345678", "Body": "好\x00的\n谢谢"}
    signature = RequestValidator("f" * 32).compute_signature(
        f"https://kefu.zhongdu.example{path}", params
    )
    response = client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 200
    message = InboundMessage.objects.get()
    assert message.body == "好的\n谢谢"
    assert message.provider_id == "SM" + "a" * 32


def test_a_nul_that_still_reaches_the_database_is_a_400_page(client_for, monkeypatch):
    """The safety net under the edge (a header or a cookie the edge does not read)."""
    from clientmgmt import views

    def refused(*args, **kwargs):
        raise ValueError("A string literal cannot contain NUL (0x00) characters.")

    monkeypatch.setattr(views.selectors, "client_search", refused)
    browser = _browser(client_for, roles.CLIENT_MANAGER)
    page = browser.get(reverse("clientmgmt:client_list"), {"q": "李娜"}, **EN)
    assert page.status_code == 400
    assert REFUSED in page.content.decode()
