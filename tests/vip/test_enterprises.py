"""Enterprise accounts through their pages: the list, new and edit (every message a person can
act on, never a 500), the account's page, adding and removing employees (a standing held only
through the enterprise ends with them), and importing a list of employees without ever
duplicating a client."""

import datetime
import io
from decimal import Decimal

import pytest
from django.contrib import auth
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from clientmgmt.models import Client
from tests.clientmgmt.factories import ID_NUMBERS
from tests.vip.factories import client, enterprise, policy, spend, vip
from vip import services
from vip.models import Enterprise, EnterpriseImport, EnterpriseMember, VipEvent, VipStanding
from zhongdu import roles
from zhongdu.models import AuditEvent

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
LIST = reverse("vip:enterprise_list")
NEW = reverse("vip:enterprise_new")
ROLES = sorted(roles.ALL_ROLES)


def _body(response):
    return response.content.decode()


def _form(**overrides):
    today = timezone.localdate()
    form = {
        "name": "河南建业集团",
        "agreement_number": "ZD-QY-2026-009",
        "agreement_start": today.isoformat(),
        "agreement_end": (today + datetime.timedelta(days=365)).isoformat(),
        "terms": "员工就诊享受VIP服务",
        "employee_count": "350",
        "annual_revenue": "120000000",
        "contact_name": "赵经理",
        "contact_phone": "139 0371 0099",
        "active": "on",
    }
    return form | overrides


@pytest.fixture
def firm():
    policy()
    return enterprise(contact_phone="+8613903710001", contact_name="王建国")


def _url(name, firm, *args):
    return reverse(name, args=[firm.pk, *args])


# --- Access ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_enterprise_pages_open_for_their_roles_only(client_for, role, firm):
    http = client_for(role)
    readers = role in roles.VIP_READERS
    writers = role in roles.VIP_DESK
    assert http.get(LIST).status_code == (200 if readers else 403)
    assert http.get(_url("vip:enterprise_detail", firm)).status_code == (200 if readers else 403)
    for url in (
        NEW,
        _url("vip:enterprise_edit", firm),
        _url("vip:enterprise_member_add", firm),
        _url("vip:enterprise_import", firm),
    ):
        assert http.get(url).status_code == (200 if writers else 403), url


def test_a_manager_reads_but_is_offered_no_changes(manager_client, firm):
    html = _body(manager_client.get(_url("vip:enterprise_detail", firm)))
    assert _url("vip:enterprise_edit", firm) not in html
    assert _url("vip:enterprise_member_add", firm) not in html
    assert reverse("vip:enterprise_new") not in _body(manager_client.get(LIST))


# --- The list, new and edit ---------------------------------------------------------------


def test_the_list_shows_agreements_employees_on_file_and_vip(vip_manager_client, firm):
    EnterpriseMember.objects.create(enterprise=firm, client=client())
    Enterprise.objects.filter(pk=firm.pk).update(
        is_vip=True, vip_until=timezone.localdate() + datetime.timedelta(days=90)
    )
    page = vip_manager_client.get(LIST)
    row = next(e for e in page.context["enterprises"] if e.pk == firm.pk)
    assert row.employees == 1
    html = _body(page)
    assert firm.name in html and "VIP" in html


def test_the_list_takes_the_same_queries_for_2_enterprises_as_for_20(vip_manager_client):
    policy()

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert vip_manager_client.get(LIST).status_code == 200
        return len(queries)

    for n in range(2):
        enterprise(name=f"企业{n}")
    vip_manager_client.get(LIST)  # warm: the session, the badge's kept count
    few = count()
    for n in range(2, 20):
        EnterpriseMember.objects.create(enterprise=enterprise(name=f"企业{n}"), client=client())
    assert count() == few


def test_a_vip_manager_creates_an_enterprise(vip_manager_client):
    page = vip_manager_client.post(NEW, _form(), follow=True, **EN)
    firm = Enterprise.objects.get()
    assert page.redirect_chain[-1][0] == firm.get_absolute_url()
    assert "Enterprise saved." in _body(page)
    assert firm.contact_phone == "+8613903710099" and firm.employee_count == 350
    assert firm.annual_revenue == Decimal("120000000") and not firm.is_vip
    # The contact's phone is masked on the pages.
    assert "139****0099" in _body(page) and "13903710099" not in _body(page)
    assert AuditEvent.objects.filter(action="create", object_type="vip.enterprise").exists()


@pytest.mark.parametrize(
    "overrides,field,message",
    [
        ({"name": "  "}, "name", "Enter the enterprise's name."),
        ({"contact_phone": "12345"}, "contact_phone", "Enter a valid phone number"),
        ({"contact_phone": "电话"}, "contact_phone", "Enter a valid phone number"),
        ({"agreement_end": "2020-01-01"}, "agreement_end", "cannot end before it starts"),
        ({"agreement_start": "2026-02-30"}, "agreement_start", "Enter a date"),
        ({"agreement_end": "明年"}, "agreement_end", "Enter a date"),
        ({"employee_count": "-3"}, "employee_count", "cannot be negative"),
        ({"employee_count": "很多"}, "employee_count", "whole number"),
        ({"employee_count": "9" * 30}, "employee_count", "Check the number of employees"),
        ({"employee_count": ""}, "employee_count", "0 if unknown"),
        ({"annual_revenue": "1" * 30}, "annual_revenue", "too large"),
        ({"annual_revenue": "-1"}, "annual_revenue", "cannot be negative"),
        ({"annual_revenue": "一亿"}, "annual_revenue", "Enter an amount"),
        ({"annual_revenue": "1.234"}, "annual_revenue", "two decimal places"),
        ({"name": "名" * 300}, "name", "at most 100"),
        ({"contact_phone": "1" * 300}, "contact_phone", ""),
    ],
)
def test_what_is_typed_wrong_is_said_on_the_field(vip_manager_client, overrides, field, message):
    page = vip_manager_client.post(NEW, _form(**overrides), **EN)
    assert page.status_code == 422
    errors = " ".join(page.context["form"].errors.get(field, []))
    assert errors and message in errors
    assert not Enterprise.objects.exists()


def test_a_second_enterprise_of_the_same_name_is_refused(vip_manager_client, firm):
    page = vip_manager_client.post(NEW, _form(name=f" {firm.name} "), **EN)
    assert page.status_code == 422
    assert page.context["form"].errors["name"] == ["An enterprise with this name already exists."]
    assert Enterprise.objects.count() == 1


def test_an_enterprise_is_edited(vip_manager_client, firm):
    url = _url("vip:enterprise_edit", firm)
    form = vip_manager_client.get(url).context["form"]
    assert form.initial["name"] == firm.name
    page = vip_manager_client.post(url, _form(name=firm.name, employee_count="42"), **EN)
    assert page.status_code == 302
    firm.refresh_from_db()
    assert firm.employee_count == 42 and firm.contact_phone == "+8613903710099"
    event = AuditEvent.objects.get(action="update", object_type="vip.enterprise")
    assert "employee_count" in event.changed_fields


def test_an_edit_to_another_enterprises_name_is_refused(vip_manager_client, firm):
    other = enterprise(name="另一企业")
    page = vip_manager_client.post(_url("vip:enterprise_edit", other), _form(name=firm.name), **EN)
    assert page.status_code == 422
    assert "already exists" in _body(page)
    other.refresh_from_db()
    assert other.name == "另一企业"


# --- The account's page -----------------------------------------------------------------


def test_the_page_shows_employees_masked_with_their_badges_spend_and_history(
    vip_manager_client, firm
):
    staff = client(name="员工甲", phone="+8613812340001")
    other = client(name="员工乙", phone="+8613812340002")
    for person in (staff, other):
        services.enterprise_add_member(enterprise=firm, client=person, by=None)
    spend(staff, "12000")
    spend(other, "3000")
    vip(other)
    services.enterprise_grant(enterprise=firm, policy=policy(), spend=Decimal("15000"))
    page = vip_manager_client.get(_url("vip:enterprise_detail", firm), **EN)
    html = _body(page)
    assert "138****0001" in html and "13812340001" not in html
    assert "139****0001" in html  # the contact person's phone
    spends = {m.client.name: m.spend for m in page.context["page"]}
    assert spends == {"员工甲": Decimal("12000.00"), "员工乙": Decimal("3000.00")}
    assert page.context["spend"] == Decimal("15000.00")
    assert 'data-testid="enterprise-vip"' in html and "Granted" in html


# --- Adding and removing employees --------------------------------------------------------


def test_an_employee_is_found_by_phone_and_added(vip_manager_client, firm):
    person = client(name="李四", phone="+8613912345678")
    url = _url("vip:enterprise_member_add", firm)
    page = vip_manager_client.get(url, {"q": "139 1234 5678"})
    assert [c.pk for c in page.context["clients"]] == [person.pk]
    assert "139****5678" in _body(page)
    clients_before = Client.objects.count()
    page = vip_manager_client.post(url, {"client": person.pk}, follow=True, **EN)
    assert "is an employee of" in _body(page)
    assert EnterpriseMember.objects.filter(enterprise=firm, client=person).exists()
    assert Client.objects.count() == clients_before


def test_an_employee_is_found_by_name(vip_manager_client, firm):
    person = client(name="王小明")
    page = vip_manager_client.get(_url("vip:enterprise_member_add", firm), {"q": "wxm"})
    assert person in page.context["clients"]


def test_an_employee_is_not_added_twice(vip_manager_client, firm):
    person = client()
    url = _url("vip:enterprise_member_add", firm)
    vip_manager_client.post(url, {"client": person.pk})
    page = vip_manager_client.post(url, {"client": person.pk}, **EN)
    assert page.status_code == 422
    assert "already an employee of this enterprise" in _body(page)
    assert EnterpriseMember.objects.count() == 1
    listed = vip_manager_client.get(url, {"q": person.phone}, **EN)
    assert "Already an employee" in _body(listed)


@pytest.mark.parametrize("value", ["", "abc", "-1"])
def test_adding_without_a_client_says_so(vip_manager_client, firm, value):
    page = vip_manager_client.post(_url("vip:enterprise_member_add", firm), {"client": value}, **EN)
    assert page.status_code == 422 and "Choose a client." in _body(page)


def test_adding_an_unknown_client_is_not_found(vip_manager_client, firm):
    url = _url("vip:enterprise_member_add", firm)
    assert vip_manager_client.post(url, {"client": 999999}).status_code == 404


def test_an_employee_of_a_vip_enterprise_is_a_vip_at_once(vip_manager_client, firm):
    services.enterprise_grant(enterprise=firm, policy=policy(), spend=Decimal("300000"))
    person = client()
    vip_manager_client.post(_url("vip:enterprise_member_add", firm), {"client": person.pk})
    standing = VipStanding.objects.get(client=person)
    assert (standing.kind, standing.enterprise) == ("enterprise", firm)


def _member(firm, person):
    return EnterpriseMember.objects.get(enterprise=firm, client=person)


def _remove(http, firm, person, **extra):
    url = _url("vip:enterprise_member_remove", firm, _member(firm, person).pk)
    return http.post(url, **extra)


def test_removing_an_employee_ends_a_standing_held_only_through_the_enterprise(
    vip_manager_client, firm
):
    person = client()
    services.enterprise_add_member(enterprise=firm, client=person, by=None)
    services.enterprise_grant(enterprise=firm, policy=policy(), spend=Decimal("300000"))
    page = _remove(vip_manager_client, firm, person, follow=True, **EN)
    assert "is no longer an employee" in _body(page)
    assert not EnterpriseMember.objects.exists()
    standing = VipStanding.objects.get(client=person)
    assert standing.status == "lapsed"
    assert not Client.objects.get(pk=person.pk).is_vip
    event = VipEvent.objects.filter(client=person).first()
    assert event.action == "lapsed" and firm.name in event.detail and not event.by_rule
    assert AuditEvent.objects.filter(action="delete", object_type="vip.enterprisemember").exists()


def test_a_personal_standing_stays_when_the_employee_is_removed(vip_manager_client, firm):
    person = client()
    services.enterprise_add_member(enterprise=firm, client=person, by=None)
    vip(person)
    services.enterprise_grant(enterprise=firm, policy=policy(), spend=Decimal("300000"))
    _remove(vip_manager_client, firm, person)
    standing = VipStanding.objects.get(client=person)
    assert (standing.status, standing.kind) == ("active", "personal")


def test_a_standing_moves_to_another_vip_enterprise_of_the_employee(vip_manager_client, firm):
    other = enterprise(name="第二家企业")
    person = client()
    for each in (firm, other):
        services.enterprise_add_member(enterprise=each, client=person, by=None)
    services.enterprise_grant(enterprise=other, policy=policy(), spend=Decimal("300000"))
    services.enterprise_grant(enterprise=firm, policy=policy(), spend=Decimal("300000"))
    VipStanding.objects.filter(client=person).update(enterprise=firm)
    _remove(vip_manager_client, firm, person)
    standing = VipStanding.objects.get(client=person)
    assert (standing.status, standing.enterprise) == ("active", other)


def test_removing_asks_for_confirmation_and_only_by_post(vip_manager_client, firm):
    person = client()
    services.enterprise_add_member(enterprise=firm, client=person, by=None)
    html = _body(vip_manager_client.get(_url("vip:enterprise_detail", firm)))
    assert "data-confirm=" in html
    url = _url("vip:enterprise_member_remove", firm, _member(firm, person).pk)
    assert vip_manager_client.get(url).status_code == 405


def test_an_employee_of_another_enterprise_is_not_removed_here(vip_manager_client, firm):
    other = enterprise(name="第二家企业")
    person = client()
    services.enterprise_add_member(enterprise=other, client=person, by=None)
    url = _url("vip:enterprise_member_remove", firm, _member(other, person).pk)
    assert vip_manager_client.post(url).status_code == 404
    assert EnterpriseMember.objects.count() == 1


# --- Importing employees ----------------------------------------------------------------


def _csv(*rows, header=("姓名", "手机", "身份证号")):
    text = "\n".join(",".join(row) for row in (header, *rows))
    return SimpleUploadedFile("employees.csv", text.encode("utf-8"), content_type="text/csv")


def _xlsx(*rows, header=("name", "phone", "id_number")):
    workbook = Workbook()
    for row in (header, *rows):
        workbook.active.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("employees.xlsx", buffer.getvalue())


def _preview(http, firm, upload):
    return http.post(_url("vip:enterprise_import", firm), {"file": upload}, **EN)


def _confirm(http, firm, preview, new_records="create", **extra):
    initial = preview.context["confirm_form"].initial
    data = {"payload": initial["payload"], "key": initial["key"], "new_records": new_records}
    return http.post(_url("vip:enterprise_import", firm), data, **EN, **extra)


def _outcomes(preview):
    return {row.number: row.outcome for row in preview.context["rows"]}


@pytest.fixture
def known():
    """Clients on file: one by phone, one by ID card (with another phone), one employee already,
    one whose phone a relative of another name shares."""
    return {
        "phone": client(name="张伟", phone="+8613800000001"),
        "card": client(name="李娜", phone="+8613800000002", id_number=ID_NUMBERS[0]),
        "member": client(name="王芳", phone="+8613800000003"),
        "relative": client(name="刘洋", phone="+8613800000004"),
    }


def test_the_preview_says_what_becomes_of_each_row_and_writes_nothing(
    vip_manager_client, firm, known
):
    services.enterprise_add_member(enterprise=firm, client=known["member"], by=None)
    upload = _csv(
        ("张伟", "138 0000 0001", ""),  # 2: found by phone and name
        ("李娜", "13999999999", ID_NUMBERS[0]),  # 3: found by ID card
        ("王芳", "13800000003", ""),  # 4: already an employee
        ("陈静", "13800000004", ""),  # 5: the phone is someone else's
        ("赵磊", "13700000005", ""),  # 6: nobody: can be registered
        ("赵磊", "13700000005", ""),  # 7: the same again
        ("钱多", "12345", ""),  # 8: a wrong phone
        ("", "13700000006", ""),  # 9: no name
        ("孙丽", "", ""),  # 10: neither phone nor ID card
    )
    clients, members = Client.objects.count(), EnterpriseMember.objects.count()
    preview = _preview(vip_manager_client, firm, upload)
    assert preview.status_code == 200
    assert _outcomes(preview) == {
        2: "add",
        3: "add",
        4: "member",
        5: "conflict",
        6: "new",
        7: "repeated",
        8: "invalid",
        9: "invalid",
        10: "invalid",
    }
    html = _body(preview)
    assert "138****0001" in html and ID_NUMBERS[0] not in html and "13800000001" not in html
    assert (Client.objects.count(), EnterpriseMember.objects.count()) == (clients, members)


def test_confirming_adds_the_found_and_registers_the_new_without_duplicates(
    vip_manager_client, firm, known
):
    upload = _csv(
        ("张伟", "13800000001", ""),
        ("李娜", "13999999999", ID_NUMBERS[0]),
        ("陈静", "13800000004", ""),
        ("赵磊", "13700000005", ID_NUMBERS[1]),
    )
    clients = Client.objects.count()
    preview = _preview(vip_manager_client, firm, upload)
    page = _confirm(vip_manager_client, firm, preview, follow=True)
    assert page.redirect_chain[-1][0] == firm.get_absolute_url()
    assert "Employees added: 3 (registered as new clients: 1). Rows left out: 1." in _body(page)
    new = Client.objects.get(name="赵磊")
    assert new.phone == "+8613700000005" and new.id_number_masked
    assert Client.objects.count() == clients + 1
    members = set(EnterpriseMember.objects.values_list("client__name", flat=True))
    assert members == {"张伟", "李娜", "赵磊"}
    # The same file again adds nobody and registers nobody.
    again = _csv(("张伟", "13800000001", ""), ("赵磊", "13700000005", ""))
    again = _preview(vip_manager_client, firm, again)
    assert set(_outcomes(again).values()) == {"member"}
    assert "No row can be added" in _body(again)
    assert Client.objects.count() == clients + 1


@pytest.mark.parametrize(
    "rows",
    [
        [("张伟", "13800000001", ""), ("赵磊", "13700000005", "")],  # asks about new records
        [("张伟", "13800000001", "")],  # nothing new: the choice is a hidden field
    ],
)
def test_the_confirmation_carries_a_one_time_key(vip_manager_client, firm, known, rows):
    preview = _preview(vip_manager_client, firm, _csv(*rows))
    key = preview.context["confirm_form"].initial["key"]
    assert f'name="key" value="{key}"' in _body(preview)
    again = _preview(vip_manager_client, firm, _csv(*rows))
    assert again.context["confirm_form"].initial["key"] != key


def test_a_double_click_on_confirm_imports_once_and_shows_the_same_result(
    vip_manager_client, firm, known
):
    upload = _csv(
        ("张伟", "13800000001", ""), ("赵磊", "13700000005", ""), ("陈静", "13800000004", "")
    )
    clients = Client.objects.count()
    preview = _preview(vip_manager_client, firm, upload)
    pages = [_confirm(vip_manager_client, firm, preview, follow=True) for _click in (1, 2)]
    job = EnterpriseImport.objects.get()
    assert (job.enterprise, job.file_name) == (firm, "employees.csv")
    assert job.imported_by == auth.get_user(vip_manager_client)
    assert job.counts == {"added": 2, "created": 1, "skipped": 1}
    for page in pages:
        assert page.redirect_chain == [(firm.get_absolute_url(), 302)]
        assert "Employees added: 2 (registered as new clients: 1). Rows left out: 1." in _body(page)
    assert Client.objects.count() == clients + 1
    assert EnterpriseMember.objects.filter(enterprise=firm).count() == 2
    assert AuditEvent.objects.filter(object_repr__contains="employees.csv").count() == 1


def test_a_second_preview_of_the_same_file_is_a_second_import_that_adds_nobody(
    vip_manager_client, firm, known
):
    upload = ("张伟", "13800000001", ""), ("赵磊", "13700000005", "")
    first = _preview(vip_manager_client, firm, _csv(*upload))
    second = _preview(vip_manager_client, firm, _csv(*upload))
    _confirm(vip_manager_client, firm, first)
    page = _confirm(vip_manager_client, firm, second, follow=True)
    assert "Employees added: 0 (registered as new clients: 0). Rows left out: 2." in _body(page)
    assert [job.counts["added"] for job in EnterpriseImport.objects.order_by("pk")] == [2, 0]
    assert EnterpriseMember.objects.filter(enterprise=firm).count() == 2


def test_rows_that_match_nobody_may_be_left_out(vip_manager_client, firm, known):
    preview = _preview(vip_manager_client, firm, _csv(("赵磊", "13700000005", "")))
    _confirm(vip_manager_client, firm, preview, new_records="skip")
    assert not Client.objects.filter(name="赵磊").exists()
    assert not EnterpriseMember.objects.exists()


def test_someone_registered_since_the_preview_is_not_registered_twice(vip_manager_client, firm):
    policy()
    preview = _preview(vip_manager_client, firm, _csv(("赵磊", "13700000005", "")))
    meanwhile = client(name="赵磊", phone="+8613700000005")
    _confirm(vip_manager_client, firm, preview)
    assert Client.objects.filter(phone="+8613700000005").count() == 1
    # Matched again at the confirmation: the record registered meanwhile is the one added.
    assert EnterpriseMember.objects.get().client == meanwhile


def test_a_name_and_birth_date_on_file_is_left_for_a_person(vip_manager_client, firm):
    policy()
    on_file = client(name="周杰", phone="+8613600000001", date_of_birth=datetime.date(1990, 3, 7))
    preview = _preview(vip_manager_client, firm, _csv(("周杰", "", ID_NUMBERS[0])))
    row = preview.context["rows"][0]
    assert row.outcome == "similar" and row.client == on_file
    _confirm(vip_manager_client, firm, preview)
    assert Client.objects.filter(name="周杰").count() == 1 and not EnterpriseMember.objects.exists()


def test_an_excel_file_is_read_too(vip_manager_client, firm, known):
    preview = _preview(vip_manager_client, firm, _xlsx(("张伟", 13800000001, None)))
    assert _outcomes(preview) == {2: "add"}


@pytest.mark.parametrize(
    "upload,message",
    [
        (SimpleUploadedFile("list.pdf", b"%PDF"), "Upload a .csv or .xlsx file."),
        (SimpleUploadedFile("list.csv", b""), "empty"),
        (SimpleUploadedFile("list.xlsx", b"not excel"), "This Excel file cannot be read."),
        (SimpleUploadedFile("list.csv", "手机\n13800000001".encode()), "姓名"),
        (SimpleUploadedFile("list.csv", "姓名,手机\n".encode()), "no rows below its header"),
    ],
)
def test_a_file_that_cannot_be_used_is_said_so(vip_manager_client, firm, upload, message):
    page = _preview(vip_manager_client, firm, upload)
    assert page.status_code == 422 and message in _body(page)


def test_an_upload_without_a_file_is_said_so(vip_manager_client, firm):
    page = vip_manager_client.post(_url("vip:enterprise_import", firm), {}, **EN)
    assert page.status_code == 422 and "Choose the file to import." in _body(page)


@pytest.mark.parametrize("payload", ["", "garbage", "gAAAAABh" + "x" * 40])
def test_a_tampered_preview_writes_nothing(vip_manager_client, firm, payload):
    url = _url("vip:enterprise_import", firm)
    page = vip_manager_client.post(url, {"payload": payload, "new_records": "create"}, **EN)
    assert page.status_code == 422
    assert not EnterpriseMember.objects.exists()


def test_a_preview_made_for_another_enterprise_is_refused(vip_manager_client, firm, known):
    other = enterprise(name="第二家企业")
    preview = _preview(vip_manager_client, firm, _csv(("张伟", "13800000001", "")))
    payload = preview.context["confirm_form"].initial["payload"]
    page = vip_manager_client.post(
        _url("vip:enterprise_import", other), {"payload": payload, "new_records": "create"}, **EN
    )
    assert page.status_code == 422 and "upload the file again" in _body(page)
    assert not EnterpriseMember.objects.exists()


def test_only_the_vip_desk_imports(manager_client, firm):
    page = manager_client.post(_url("vip:enterprise_import", firm), {"file": _csv()})
    assert page.status_code == 403
