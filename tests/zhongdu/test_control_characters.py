"""NUL and the other control characters are refused at the edge, with a clear message, never
with a server error and never into a stored row (zhongdu.controlchars). Postgres cannot hold a
NUL, so these tests matter in the Postgres mode: on SQLite the old errors did not show."""

import datetime
import io
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client as Browser
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils import timezone
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


# --- Every page of the access table -----------------------------------------------------------
#
# One walk over every URL the access table declares, on one set of demo data (seed_demo and a
# few objects it does not make): each page is opened by a user of a role it allows (anonymous on
# public pages), every form it renders is read, and each field of each form, each parameter of
# its links and a few common parameters are sent in turn with a NUL. Nothing may answer 500 or
# write a row. One test rather than one per URL: the data is made once.

NUL = "\x00"
COMMON_PARAMETERS = ("q", "page", "date", "status", "next", "month", "client", "sort")
SHARED_FIELDS = {
    "csrfmiddlewaretoken",
    "next",
    "language",
    "_save",
    "_continue",
    "_addanother",
    "_popup",
    "_changelist_filters",
    "action",
    "select_across",
    "index",
    "_selected_action",
    "post",
}
# The model whose first row each URL's argument names, by the URL name's longest prefix.
ARGUMENT_ROWS = {
    "survey": ("surveys.SurveyInvitation", "token"),
    "clientmgmt:client_": ("clientmgmt.Client", "pk"),
    "clientmgmt:health_archive": ("clientmgmt.Client", "pk"),
    "clientmgmt:import_": ("clientmgmt.ClientImport", "token"),
    "clientmgmt:merge_": ("clientmgmt.ClientMerge", "pk"),
    "referrals:referral_": ("referrals.Referral", "pk"),
    "complaints:complaint_": ("complaints.Complaint", "pk"),
    "messaging:message_": ("messaging.OutboxMessage", "pk"),
    "messaging:campaign_": ("messaging.Campaign", "pk"),
    "messaging:twilio_status": ("messaging.OutboxMessage", "callback_token"),
    "consult:booking_": ("consult.Booking", "pk"),
    "consult:recall_": ("consult.Recall", "pk"),
    "guide:check_in": ("consult.Booking", "pk"),
    "guide:visit_": ("guide.Visit", "pk"),
    "guide:charge_add": ("guide.Visit", "pk"),
    "guide:charge_void": ("guide.Charge", "pk"),
    "guide:charge_import_": ("guide.ChargeImport", "token"),
    "guide:card_": ("guide.MembershipCard", "pk"),
    "guide:exam_item_done": ("guide.ExamOrderItem", "pk"),
    "guide:exam_": ("guide.ExamOrder", "pk"),
    "followup:call_": ("followup.FollowUpCall", "pk"),
    "followup:plan_": ("followup.CarePlan", "pk"),
    "followup:visit_slip": ("guide.Visit", "pk"),
    "surveys:round_": ("surveys.SurveyRound", "pk"),
    "events:event_rsvp": ("events.EventInvitation", "pk"),
    "events:event_": ("events.Event", "pk"),
    "vip:candidate_": ("vip.VipCandidate", "pk"),
    "vip:vip_": ("vip.VipStanding", "client_id"),
    "vip:enterprise_member_remove": ("vip.EnterpriseMember", "pk"),
    "vip:enterprise_": ("vip.Enterprise", "pk"),
    "reports:pack_": ("reports.MonthlyReport", "pk"),
}


class _PageForms(HTMLParser):
    """The forms of a page (and htmx inputs outside a form): method, action, the values a
    browser would send as rendered, and every field name."""

    def __init__(self):
        super().__init__()
        self.forms, self.links = [], []
        self._form = self._select = self._textarea = None

    def _new(self, method, action):
        form = {"method": method, "action": action, "values": {}, "names": []}
        self.forms.append(form)
        return form

    def handle_starttag(self, tag, attrs):
        a = {key: value or "" for key, value in attrs}
        if tag == "a" and "?" in a.get("href", ""):
            self.links.append(a["href"])
        if tag == "form":
            method = "post" if a.get("hx-post") or a.get("method", "").lower() == "post" else "get"
            self._form = self._new(method, a.get("hx-post") or a.get("hx-get") or a.get("action"))
            return
        if tag == "option" and self._select:
            form, name = self._select
            if "selected" in a or name not in form["values"]:
                form["values"][name] = [a.get("value", "")]
            return
        name = a.get("name")
        if tag not in ("input", "select", "textarea", "button") or not name:
            return
        form = self._form
        if form is None:  # an htmx input on its own
            if not (a.get("hx-get") or a.get("hx-post")):
                return
            form = self._new("post" if a.get("hx-post") else "get", a.get("hx-post") or a["hx-get"])
        kind = a.get("type", "text").lower()
        if kind in ("file", "image", "reset"):
            return
        form["names"].append(name)
        values = form["values"]
        if tag == "input" and kind not in ("checkbox", "radio", "submit", "button"):
            values.setdefault(name, []).append(a.get("value", ""))
        elif tag == "input" and kind in ("checkbox", "radio") and "checked" in a:
            values.setdefault(name, []).append(a.get("value", "on"))
        elif tag == "select":
            self._select = (form, name)
        elif tag == "textarea":
            self._textarea = (form, name)
            values[name] = [""]

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self._textarea:
            form, name = self._textarea
            form["values"][name][0] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _page_forms(html: str) -> _PageForms:
    parser = _PageForms()
    parser.feed(html)
    return parser


def _world(django_user_model):
    """The demo hospital, and one of each object the demo does not make."""
    from django.core.management import call_command

    from clientmgmt import services
    from complaints import services as complaints
    from guide import imports as charge_imports
    from messaging import services as messaging_services
    from messaging.models import SmsTemplate
    from reports import packs
    from tests.consult.factories import make_no_show

    call_command("seed_demo", password="walk-the-pages", days=3, force=True, stdout=io.StringIO())
    by = django_user_model.objects.get(username="admin")
    people = list(Client.objects.order_by("pk")[:3])
    services.client_import_create(
        file_name="clients.csv", raw="姓名,手机\n张三,13912345670\n".encode(), by=by
    )
    visit = apps.get_model("guide.Visit").objects.first()
    charges = f"就诊号,项目编码,流水号\n{visit.pk},GH001,W-1\n"
    charge_imports.charge_import_create(file_name="charges.csv", raw=charges.encode(), by=by)
    complaints.complaint_create(client=people[0], by=by, words="等候时间太长")
    services.client_merge(survivor=people[1], merged=people[2], by=by)
    messaging_services.campaign_create(
        name="冬季护肤",
        template=SmsTemplate.objects.first(),
        segment={},
        send_at=timezone.now() + datetime.timedelta(days=1),
        by=by,
    )
    make_no_show()
    packs.pack_generate(month=(timezone.localdate().replace(day=1) - datetime.timedelta(days=1)))


def _argument(name, kwarg):
    prefixes = [prefix for prefix in ARGUMENT_ROWS if name.startswith(prefix)]
    if name.startswith("admin:"):
        return _admin_argument(name, kwarg)
    if kwarg == "member_pk":
        return apps.get_model("vip.EnterpriseMember").objects.first().pk
    if not prefixes:
        return None
    label, field = ARGUMENT_ROWS[max(prefixes, key=len)]
    if name == "vip:enterprise_member_remove":
        label, field = "vip.Enterprise", "pk"
    row = apps.get_model(label).objects.order_by("pk").first()
    return None if row is None else getattr(row, field)


def _admin_argument(name, kwarg):
    if kwarg == "app_label":
        return "clientmgmt"
    models = {f"admin:{m._meta.app_label}_{m._meta.model_name}_": m for m in admin.site._registry}
    for prefix, model in models.items():
        if name.startswith(prefix):
            row = model._default_manager.order_by("pk").first()
            return None if row is None else str(row.pk)
    return None


def _urls():
    """(name, url, pattern's arguments) of every named URL, its arguments filled with demo rows;
    a URL whose row does not exist gets an id that names nothing (it answers 404)."""
    from tests.zhongdu.test_access import _url_for, all_patterns

    seen = {}
    for name, _ns, _route, pattern in all_patterns():
        if not name or name in seen:
            continue
        kwargs = list(pattern.pattern.regex.groupindex)
        values = {kwarg: _argument(name, kwarg) for kwarg in kwargs}
        if all(value is not None for value in values.values()):
            try:
                seen[name] = (reverse(name, kwargs=values), kwargs)
                continue
            except NoReverseMatch:
                pass
        seen[name] = (_url_for(name, pattern), kwargs)
    return seen


def _role_for(name):
    rule = roles.access_rule(name)
    if rule == roles.PUBLIC:
        return None
    if rule == roles.PATIENT:
        return roles.PATIENT
    if rule == roles.SIGNED_IN or roles.ADMINISTRATOR in rule:
        return roles.ADMINISTRATOR
    return sorted(rule)[0]


def _writes(queries):
    # A statement the driver refused (a NUL) is captured without its SQL.
    statements = [q["sql"] or "" for q in queries]
    return [
        sql[:120]
        for sql in statements
        if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        and "django_session" not in sql
    ]


def _form_key(method, path, field):
    """Fields sent once each: per form (the admin's add and change forms are one form, an
    inline's rows are one row), and the fields every page's forms share (the CSRF token, the
    admin's buttons) once in the walk."""
    if field in SHARED_FIELDS:
        return (method, "*", field)
    field = re.sub(r"-(\d+|__prefix__)-", "-n-", field)
    try:
        view = resolve(path).view_name
    except Resolver404:
        view = path
    return (method, re.sub(r"_(add|change)$", "_form", view), field)


def _patient_browser(settings, monkeypatch):
    """A browser signed in to the patient portal as a demo client. The walk takes minutes: the
    session neither lapses nor notes that it was seen meanwhile (a write the walk would count)."""
    from clientmgmt.models import Client
    from portal import selectors as portal_selectors
    from portal.middleware import COOKIE
    from portal.services import session_start

    settings.PORTAL_IDLE_TIMEOUT_MINUTES = settings.PORTAL_SESSION_LIFETIME_HOURS * 60
    monkeypatch.setattr(portal_selectors, "SEEN_EVERY", datetime.timedelta(days=1))
    person = Client.objects.filter(status=Client.Status.ACTIVE).exclude(phone="").first()
    _session, token = session_start(client=person, ip=None, user_agent="")
    browser = Browser(raise_request_exception=False)
    browser.cookies[COOKIE] = token
    return browser


def test_every_page_refuses_nul_in_each_parameter_and_field_without_storing_anything(
    client_for, django_user_model, settings, monkeypatch
):
    _world(django_user_model)
    browsers = {role: _browser(client_for, role) for role in roles.ALL_ROLES}
    browsers[None] = Browser(raise_request_exception=False)
    browsers[roles.PATIENT] = _patient_browser(settings, monkeypatch)
    problems, tried = [], set()

    def send(browser, method, url, data, what):
        with CaptureQueriesContext(connection) as queries:
            response = getattr(browser, method)(url, data)
        if response.status_code >= 500:
            problems.append(f"{method.upper()} {url} {what}: {response.status_code}")
        if writes := _writes(queries.captured_queries):
            problems.append(f"{method.upper()} {url} {what}: wrote {writes}")

    for name, (url, kwargs) in sorted(_urls().items()):
        browser = browsers[_role_for(name)]
        # A NUL in the address itself, where the URL's converters let one through (the
        # admin's pages of every model once: one view serves them all).
        for kwarg in kwargs:
            if name.startswith("admin:") and (kwarg, name.rpartition("_")[2]) in tried:
                continue
            tried.add((kwarg, name.rpartition("_")[2]))
            try:
                bad = reverse(name, kwargs={k: NUL if k == kwarg else "1" for k in kwargs})
            except NoReverseMatch:
                continue
            send(browser, "get", bad, {}, f"<{kwarg}>")
        page = browser.get(url)
        assert page.status_code < 500, f"{name} answers {page.status_code} without a NUL"
        found = _page_forms(page.content.decode(errors="replace"))
        # The parameters of the page's own links and the common ones, together.
        parameters = dict.fromkeys(COMMON_PARAMETERS, NUL)
        for link in found.links:
            parts = urlsplit(link)
            if parts.path in ("", urlsplit(url).path):
                parameters.update(dict.fromkeys(parse_qs(parts.query, True), NUL))
        send(browser, "get", url, parameters, "?links")
        # Each field of each form in turn, the others as rendered.
        for form in found.forms:
            action = urljoin(url, form["action"] or url)
            if not action.startswith("/"):
                continue
            for field in dict.fromkeys(form["names"]):
                key = _form_key(form["method"], urlsplit(action).path, field)
                if key in tried:
                    continue
                tried.add(key)
                value = form["values"].get(field, [""])[0]
                data = {**form["values"], field: [f"{value}{NUL}"]}
                send(browser, form["method"], action, data, f"[{field}]")
    assert problems == []
    # The walk reached the forms: the client form's fields, the admin's, the public booking's.
    fields = {key[-1] for key in tried}
    assert {"name", "phone", "notes", "csrfmiddlewaretoken", "_save"} <= fields, fields
