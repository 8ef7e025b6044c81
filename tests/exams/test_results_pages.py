"""The results of an exam order through their pages: entry of each kind (htmx and plain), bad
input answered 422 with what was typed, the release by a clinician with its confirmation and
once only, corrections after release with their reason in the history, report files sent
decrypted and audited, the clinicians' worklist, who may read what (the front desk only
"results ready"; a VIP's results only for those who serve them), the admin's checks."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clientmgmt.models import Client
from exams.models import ExamResult, ExamResultRevision, ResultDefinition, ResultRelease
from tests.clientmgmt.factories import ClientFactory
from tests.conftest import ROLE_USERNAMES
from vip.models import VipStanding
from zhongdu import roles
from zhongdu.models import AuditEvent

from .factories import (
    choice_definition,
    exam_item,
    file_definition,
    item_of,
    number_definition,
    order_with,
    record,
    release,
    text_definition,
)

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
HTMX = {"HTTP_HX_REQUEST": "true"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%fake\n"


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    settings.PRIVATE_FILES_ROOT = tmp_path / "private"


@pytest.fixture
def clinician(client_for):
    return client_for(roles.CLINICIAN)


@pytest.fixture
def four_kinds():
    """An order of a number, a choice, a text, a file and an examination that yields nothing."""
    wbc, fungus, opinion, dermoscopy = (
        number_definition(),
        choice_definition(),
        text_definition(),
        file_definition(),
    )
    plain = exam_item("JC199", name="皮肤清洁护理")
    order = order_with(wbc, fungus, opinion, dermoscopy)
    order.items.create(price_item=plain)
    return order, wbc, fungus, opinion, dermoscopy


def _url(order):
    return reverse("exams:results", args=[order.pk])


def _save_url(order, definition):
    return reverse("exams:result_save", args=[order.pk, item_of(order, definition).pk])


def _save(http, order, definition, data, **headers):
    data = {"revision": 0, **data}
    return http.post(_save_url(order, definition), data, **{**EN, **headers})


def _body(response):
    return response.content.decode()


def make_vip(**kwargs):
    person = ClientFactory(name="贵宾乙", **kwargs)
    Client.objects.filter(pk=person.pk).update(is_vip=True)
    VipStanding.objects.create(client=person, kind="personal", since="2026-01-01")
    person.refresh_from_db()
    return person


# --- The page ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "words"),
    [(EN, ("No result to record", "Not recorded yet")), (ZH, ("无需记录结果", "尚未记录"))],
)
def test_the_page_lists_each_examination_with_its_form_and_rule(
    clinician, four_kinds, headers, words
):
    order, *_definitions = four_kinds
    page = clinician.get(_url(order), **headers)
    html = _body(page)
    assert page.status_code == 200
    for word in words:
        assert word in html
    assert html.count('data-testid="result-form"') == 4
    assert "3.5–9.5 ×10⁹/L" in html  # the rule the value will be judged by
    assert 'type="file"' in html and "<textarea" in html and "阳性" in html
    assert order.client.phone_masked in html and order.client.phone not in html
    event = AuditEvent.objects.get(action="view", object_type="guide.examorder")
    assert event.object_id == str(order.pk) and event.actor_username == "t_clinician"
    # The order's page is the desks' (a clinician may not open it): no link to it here.
    assert f'href="{order.get_absolute_url()}"' not in html


def test_the_readers_of_the_order_are_linked_back_to_it(client_for):
    order = order_with(number_definition())
    html = _body(client_for(roles.CLIENT_MANAGER).get(_url(order), **EN))
    assert f'href="{order.get_absolute_url()}"' in html


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES))
def test_only_the_result_readers_open_the_page(client_for, role):
    wbc = number_definition()
    order = order_with(wbc)
    record(order, wbc, number="5.25")
    page = client_for(role).get(_url(order), **EN)
    if role in roles.RESULT_ENTRY | roles.RESULT_RELEASERS:
        # The examining staff and the clinicians see the values before the release.
        assert page.status_code == 200
        assert "5.25" in _body(page)
    elif role in roles.RESULT_READERS:
        # Nothing is shown outside the centre before the release: "pending", no value, no
        # history, and no read of results audited; after the release the values show.
        assert page.status_code == 200
        html = _body(page)
        assert "5.25" not in html and 'data-testid="results-pending"' in html
        assert "Results pending release" in html
        assert 'data-testid="results"' not in html
        assert not AuditEvent.objects.filter(action="view", object_type="guide.examorder")
        zh = _body(client_for(role).get(_url(order), **ZH))
        assert "5.25" not in zh and "结果待发布" in zh
        release(order)
        after = _body(client_for(role).get(_url(order), **EN))
        assert "5.25" in after and 'data-testid="results-pending"' not in after
        assert AuditEvent.objects.filter(action="view", object_type="guide.examorder")
    else:
        assert page.status_code == 403
        assert not AuditEvent.objects.filter(action="view", object_type="guide.examorder")


@pytest.mark.parametrize("role", sorted(roles.RESULT_READERS))
def test_a_vips_results_are_for_those_who_serve_them(client_for, role):
    wbc = number_definition()
    order = order_with(wbc, client=make_vip())
    record(order, wbc, number="5")
    http = client_for(role)
    page = http.get(_url(order), **EN)
    file_page = http.get(reverse("exams:results_import", args=[order.pk]), **EN)
    if role in (roles.VIP_MANAGER, roles.ADMINISTRATOR):
        assert page.status_code == 200
    else:
        assert page.status_code == 403
        assert file_page.status_code == 403


def test_the_front_desk_sees_only_whether_results_are_ready(client_for):
    wbc = number_definition()
    order = order_with(wbc)
    record(order, wbc, number="12.5")
    desk, manager = client_for(roles.FRONT_DESK), client_for(roles.CLIENT_MANAGER)
    detail = reverse("guide:exam_detail", args=[order.pk])
    html = _body(desk.get(detail, **EN))
    assert "Results pending" in html and "12.5" not in html
    assert 'data-testid="results-link"' not in html
    release(order)
    html = _body(desk.get(detail, **EN))
    assert "Results ready" in html and "12.5" not in html and "results-link" not in html
    assert "结果已出" in _body(desk.get(detail, **ZH))
    assert 'data-testid="results-link"' in _body(manager.get(detail, **EN))
    assert desk.get(_url(order), **EN).status_code == 403


def test_an_order_without_result_items_says_nothing_of_results(client_for):
    order = order_with(number_definition())
    ResultDefinition.objects.all().delete()
    html = _body(client_for(roles.FRONT_DESK).get(order.get_absolute_url(), **EN))
    assert 'data-testid="results-state"' not in html


def test_the_page_keeps_a_fixed_query_count_for_an_order_of_twenty(clinician):
    definitions = [number_definition(f"JC2{n:02d}") for n in range(10)]
    definitions += [choice_definition(f"JC3{n:02d}") for n in range(10)]
    order = order_with(*definitions)
    for definition in definitions[:15]:
        value = {"number": "5"} if definition.kind == "number" else {"text": "阴性"}
        record(order, definition, **value)
    record(order, definitions[0], number="6")
    clinician.get(_url(order))  # warm the per-process caches (navigation, permissions)
    with CaptureQueriesContext(connection) as queries:
        page = clinician.get(_url(order))
    assert page.status_code == 200
    assert _body(page).count('data-testid="result-row"') == 20
    assert len(queries) <= 10, [q["sql"] for q in queries.captured_queries]


# --- Entry --------------------------------------------------------------------------------


def test_each_kind_is_recorded_with_its_flag(clinician, four_kinds):
    order, wbc, fungus, opinion, dermoscopy = four_kinds
    answer = _save(clinician, order, wbc, {"value": "12.0"})
    assert answer.status_code == 302 and answer.url.endswith(f"#result-{item_of(order, wbc).pk}")
    assert _save(clinician, order, fungus, {"value": "阳性"}).status_code == 302
    assert _save(clinician, order, opinion, {"value": "双颊色素沉着"}).status_code == 302
    upload = {"file": _upload("lesion.png", PNG, "image/png")}
    assert _save(clinician, order, dermoscopy, upload).status_code == 302
    values = {r.item.price_item_id: r for r in ExamResult.objects.select_related("item")}
    assert values[wbc.exam_id].flag == "abnormal" and values[wbc.exam_id].value_number == 12
    assert values[fungus.exam_id].flag == "abnormal"
    assert values[opinion.exam_id].value_text == "双颊色素沉着"
    assert values[dermoscopy.exam_id].file_type == "image/png"
    html = _body(clinician.get(_url(order), **EN))
    assert 'data-flag="abnormal"' in html and "lesion.png" in html and "t_clinician" in html


def test_htmx_gets_the_row_back(clinician, four_kinds):
    order, wbc, *_rest = four_kinds
    answer = _save(clinician, order, wbc, {"value": "1.5"}, **HTMX)
    html = _body(answer)
    assert answer.status_code == 200
    assert html.startswith('<div class="list-group-item" id="result-')
    assert 'data-flag="critical"' in html and "1.5" in html
    assert 'id="release-card" hx-swap-oob="true"' in html  # what is missing, updated
    wrong = _save(clinician, order, wbc, {"value": "abc", "revision": 1}, **HTMX)
    assert wrong.status_code == 422
    assert "Enter a number." in _body(wrong) and 'value="abc"' in _body(wrong)


def _upload(name, data, content_type):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        ("number", {"value": "abc"}, "Enter a number."),
        ("number", {"value": "1e400"}, "Enter a number the laboratory could have measured."),
        ("number", {"value": ""}, "Enter the value."),
        ("choice", {"value": "可疑"}, "Choose one of the answers offered."),
        ("text", {"value": "x" * 501}, "Keep the result under 500 characters."),
        ("file", {"file": ("x.exe", b"MZ\x90\x00", "image/png")}, "Attach a JPEG or PNG"),
        (
            "file",
            {"file": ("big.pdf", PDF + b"0" * (10 * 1024 * 1024), "application/pdf")},
            "10 MB",
        ),
    ],
)
def test_bad_input_is_refused_with_its_message_and_what_was_typed(
    clinician, four_kinds, kind, data, message
):
    order, *definitions = four_kinds
    definition = next(d for d in definitions if d.kind == kind)
    if "file" in data:
        data = {"file": _upload(*data["file"])}
    answer = _save(clinician, order, definition, data)
    html = _body(answer)
    assert answer.status_code == 422
    assert message in html
    if kind == "number" and data.get("value"):
        assert data["value"] in html  # nothing typed is lost
    assert not ExamResult.objects.exists()


def test_control_characters_are_refused(clinician, four_kinds):
    order, wbc, _fungus, opinion, _file = four_kinds
    assert _save(clinician, order, wbc, {"value": "5\x00"}).status_code == 400
    answer = _save(clinician, order, opinion, {"value": "正常\x0b"})
    assert answer.status_code == 400
    record(order, wbc, number="5")
    tabbed = _save(clinician, order, wbc, {"value": "5\t2", "revision": 1})
    assert tabbed.status_code == 422 and "Enter a number." in _body(tabbed)
    assert ExamResult.objects.count() == 1


def test_a_double_click_records_once_and_a_stale_tab_is_refused(clinician):
    wbc = number_definition()
    order = order_with(wbc)
    assert _save(clinician, order, wbc, {"value": "5"}).status_code == 302
    assert _save(clinician, order, wbc, {"value": "5"}).status_code == 302
    assert ExamResultRevision.objects.count() == 1
    stale = _save(clinician, order, wbc, {"value": "7"})
    assert stale.status_code == 409 and "meanwhile" in _body(stale)
    assert ExamResult.objects.get().value_number == 5


def test_entry_is_for_the_examining_staff(client_for):
    wbc = number_definition()
    order = order_with(wbc)
    for role in sorted(roles.ALL_ROLES):
        answer = _save(client_for(role), order, wbc, {"value": "5"})
        assert answer.status_code == (302 if role in roles.RESULT_ENTRY else 403), role
        ExamResult.objects.all().delete()
    html = _body(client_for(roles.CLIENT_MANAGER).get(_url(order), **EN))
    assert 'data-testid="result-form"' not in html


def test_an_item_of_another_order_or_without_definition_is_not_found(clinician, four_kinds):
    order, *_definitions = four_kinds
    other = order_with(number_definition("JC900"))
    url = reverse("exams:result_save", args=[order.pk, other.items.get().pk])
    assert clinician.post(url, {"value": "5"}).status_code == 404
    plain = order.items.get(price_item__code="JC199")
    url = reverse("exams:result_save", args=[order.pk, plain.pk])
    assert clinician.post(url, {"value": "5"}).status_code == 404


# --- Release and corrections -------------------------------------------------------------


def _release(http, order, confirm=True):
    data = {"confirm": "on"} if confirm else {}
    return http.post(reverse("exams:results_release", args=[order.pk]), data, **EN)


def test_release_lists_what_is_missing_and_needs_the_confirmation(clinician):
    wbc, fungus = number_definition(), choice_definition()
    order = order_with(wbc, fungus)
    record(order, wbc, number="5")
    page = _body(clinician.get(_url(order), **EN))
    assert 'data-testid="missing-list"' in page and "真菌镜检" in page
    refused = _release(clinician, order)
    assert refused.status_code == 422 and "真菌镜检" in _body(refused)
    record(order, fungus, text="阴性")
    unconfirmed = _release(clinician, order, confirm=False)
    assert unconfirmed.status_code == 422 and "Tick the box" in _body(unconfirmed)
    assert not ResultRelease.objects.exists()
    assert _release(clinician, order).status_code == 302
    assert _release(clinician, order).status_code == 302  # a double click
    assert ResultRelease.objects.count() == 1
    html = _body(clinician.get(_url(order), **EN))
    assert 'data-testid="release-info"' in html and "t_clinician" in html
    assert "already released" in html and 'data-testid="release-form"' not in html


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES - roles.RESULT_RELEASERS))
def test_only_a_clinician_releases(client_for, role):
    wbc = number_definition()
    order = order_with(wbc)
    record(order, wbc, number="5")
    assert _release(client_for(role), order).status_code == 403
    assert not ResultRelease.objects.exists()


def test_a_correction_after_release_needs_a_reason_and_shows_in_the_history(clinician):
    wbc = number_definition()
    order = order_with(wbc)
    record(order, wbc, number="5")
    release(order)
    page = _body(clinician.get(_url(order), **EN))
    assert "Reason for the correction" in page
    refused = _save(clinician, order, wbc, {"value": "12", "revision": 1})
    assert refused.status_code == 422 and 'value="12"' in _body(refused)
    tabbed = _save(clinician, order, wbc, {"value": "12", "revision": 1, "reason": "a\tb"})
    assert tabbed.status_code == 422 and "control character" in _body(tabbed)
    done = _save(clinician, order, wbc, {"value": "12", "revision": 1, "reason": "抄写错误"})
    assert done.status_code == 302
    html = _body(clinician.get(_url(order), **EN))
    assert 'data-testid="history"' in html and "抄写错误" in html and "After release" in html
    assert list(ExamResultRevision.objects.values_list("after_release", flat=True)) == [
        False,
        True,
    ]


# --- Report files ------------------------------------------------------------------------


def test_a_report_file_is_sent_decrypted_audited_and_never_cached(client_for):
    dermoscopy = file_definition()
    order = order_with(dermoscopy)
    record(order, dermoscopy, file=("报告.pdf", "application/pdf", PDF))
    url = reverse("exams:result_file", args=[order.pk, item_of(order, dermoscopy).pk])
    # Before the release the file is the examining staff's only (nothing leaves the centre).
    assert client_for(roles.CLIENT_MANAGER).get(url).status_code == 404
    assert client_for(roles.VIP_MANAGER).get(url).status_code == 404
    assert not AuditEvent.objects.filter(action="view", object_id=str(order.pk))
    release(order)
    answer = client_for(roles.CLIENT_MANAGER).get(url)
    assert answer.status_code == 200
    assert answer.content == PDF
    assert answer["Content-Type"] == "application/pdf"
    assert (
        answer["Content-Disposition"].startswith("inline;")
        and "filename" in answer["Content-Disposition"]
    )
    assert "no-store" in answer["Cache-Control"]
    event = AuditEvent.objects.filter(action="view", object_id=str(order.pk)).get()
    assert event.actor_username == ROLE_USERNAMES[roles.CLIENT_MANAGER]
    assert "Report file" in event.object_repr or "报告" in event.object_repr
    assert client_for(roles.FRONT_DESK).get(url).status_code == 403
    wbc_order = order_with(number_definition())
    no_file = reverse("exams:result_file", args=[wbc_order.pk, wbc_order.items.get().pk])
    assert client_for(roles.CLIENT_MANAGER).get(no_file).status_code == 404


# --- The worklist ------------------------------------------------------------------------

WORKLIST = reverse("exams:results_worklist")


def test_the_worklist_shows_what_waits_newest_first_with_its_filter(clinician):
    wbc = number_definition()
    empty = _body(clinician.get(WORKLIST, **EN))
    assert 'data-testid="empty"' in empty
    to_enter = order_with(wbc)
    to_release = order_with(wbc)
    record(to_release, wbc, number="5")
    released = order_with(wbc)
    record(released, wbc, number="5")
    release(released)
    html = _body(clinician.get(WORKLIST, **EN))
    links = [reverse("exams:results", args=[o.pk]) for o in (to_release, to_enter)]
    assert html.index(links[0]) < html.index(links[1])
    assert reverse("exams:results", args=[released.pk]) not in html
    entering = _body(clinician.get(WORKLIST + "?waiting=enter", **EN))
    assert links[1] in entering and links[0] not in entering
    releasing = _body(clinician.get(WORKLIST + "?waiting=release", **ZH))
    assert links[0] in releasing and links[1] not in releasing
    assert clinician.get(WORKLIST + "?waiting=nonsense").status_code == 200


def test_the_worklist_pages_by_keyset_and_keeps_a_vip_discreet(clinician):
    wbc = number_definition()
    orders = [order_with(wbc) for _ in range(51)]
    vip_order = order_with(wbc, client=make_vip())
    first = clinician.get(WORKLIST, **EN)
    html = _body(first)
    assert html.count('data-testid="worklist-row"') == 50
    assert 'data-testid="discretion"' in html
    assert reverse("exams:results", args=[vip_order.pk]) not in html
    assert vip_order.client.phone_masked in html
    older = clinician.get(WORKLIST + f"?before={first.context['page'].next_before}", **EN)
    assert reverse("exams:results", args=[orders[0].pk]) in _body(older)


def test_the_worklist_is_in_the_clinicians_navigation(client_for):
    home = _body(client_for(roles.CLINICIAN).get(reverse("home"), **EN))
    assert WORKLIST in home
    assert WORKLIST not in _body(client_for(roles.FRONT_DESK).get(reverse("home"), **EN))


# --- The admin ---------------------------------------------------------------------------


def _definition_form(**data):
    from exams.admin import ResultDefinitionForm

    item = exam_item("JC777")
    return ResultDefinitionForm(
        {"exam": item.pk, "kind": "choice", "decimals": 1, "active": "on", **data}
    )


def test_the_admin_checks_a_choices_answers():
    good = _definition_form(choices='[{"value": "阴性", "flag": "normal"}]')
    assert good.is_valid(), good.errors
    for bad in (
        "[]",
        '{"value": "阴性"}',
        '[{"value": "阴性", "flag": "bad"}]',
        '[{"value": "", "flag": "normal"}]',
        '[{"value": "阴性", "flag": "normal"}, {"value": "阴性", "flag": "abnormal"}]',
    ):
        assert not _definition_form(choices=bad).is_valid(), bad


def test_the_admin_checks_a_reference_range():
    from exams.admin import ReferenceRangeForm

    def form(**limits):
        return ReferenceRangeForm({"sex": "", "age_from": 0, **limits})

    assert form(low="3.5", high="9.5", critical_low="2", critical_high="30").is_valid()
    assert not form(low="9.5", high="3.5").is_valid()
    assert not form(low="3.5", high="9.5", critical_low="4").is_valid()
    assert not form(low="3.5", high="9.5", critical_high="9").is_valid()
    assert not form().is_valid()
    assert not form(low="1", age_from=60, age_to=18).is_valid()


def test_the_admin_pages_open_for_an_administrator(client_for):
    admin = client_for(roles.ADMINISTRATOR)
    definition = number_definition()
    for url in (
        reverse("admin:exams_resultdefinition_changelist"),
        reverse("admin:exams_resultdefinition_change", args=[definition.pk]),
        reverse("admin:exams_finding_changelist"),
        reverse("admin:exams_finding_add"),
    ):
        assert admin.get(url, **EN).status_code == 200, url


def test_the_worklist_keeps_a_fixed_query_count(clinician):
    wbc = number_definition()
    for n in range(30):
        order_with(wbc, client=make_vip() if n % 10 == 0 else None)
    clinician.get(WORKLIST)
    with CaptureQueriesContext(connection) as queries:
        page = clinician.get(WORKLIST)
    assert _body(page).count('data-testid="worklist-row"') == 30
    assert len(queries) <= 8, [q["sql"] for q in queries.captured_queries]


def test_a_report_uploaded_twice_by_a_double_click_is_kept_once(clinician):
    dermoscopy = file_definition()
    order = order_with(dermoscopy)
    for _click in range(2):
        upload = {"file": _upload("lesion.png", PNG, "image/png")}
        assert _save(clinician, order, dermoscopy, upload).status_code == 302
    assert ExamResultRevision.objects.count() == 1
    other = {"file": _upload("other.png", PNG + b"x", "image/png")}
    assert _save(clinician, order, dermoscopy, other).status_code == 409
    assert ExamResult.objects.get().file_label == "lesion.png"
