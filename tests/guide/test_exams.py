"""Exam orders (体检单) through their pages: ordering a package and single examinations (charged
to the visit they were ordered in), ticking examinations off with htmx, completing and
cancelling; the list with its filters and pages; who may do what; the admin."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clientmgmt.models import Client
from guide import selectors
from guide.models import Charge, ExamOrder, ExamOrderItem, TriageKeyword
from tests.clientmgmt.factories import ClientFactory
from tests.factories import TEST_PASSWORD, UserFactory
from tests.guide.factories import exam_order, exam_package, price, walk_in
from tests.zhongdu.factories import DepartmentFactory
from zhongdu import roles
from zhongdu.models import AuditEvent, PriceItem

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
HTMX = {"HTTP_HX_REQUEST": "true"}
LIST = reverse("guide:exam_list")
ORDER_WRITERS = sorted(roles.CARD_DESK)
ORDER_ONLY_READERS = sorted(roles.CARD_READERS - roles.CARD_DESK)


def _exam(code, amount="80.00", **kwargs):
    return price(code, amount, category=PriceItem.Category.EXAM, **kwargs)


def _new_url(person, visit=None):
    url = reverse("guide:exam_new") + f"?client={person.pk}"
    return url + f"&visit={visit.pk}" if visit else url


def _tick(http, item, done="1", **headers):
    url = reverse("guide:exam_item_done", args=[item.pk])
    return http.post(url, {"done": done}, **headers, **EN)


def _tick_all(http, order):
    for item in order.items.all():
        _tick(http, item)


def _complete(http, order, summary="Normal findings."):
    url = reverse("guide:exam_complete", args=[order.pk])
    return http.post(url, {"result_summary": summary}, **EN)


def _cancel(http, order, reason):
    return http.post(reverse("guide:exam_cancel", args=[order.pk]), {"reason": reason}, **EN)


def _body(response):
    return response.content.decode()


def _codes(order):
    return sorted(order.items.values_list("price_item__code", flat=True))


# --- Ordering -----------------------------------------------------------------------


def test_the_new_order_page_offers_active_packages_and_active_examinations(front_desk_client):
    package = exam_package()
    retired = exam_package(code="TC009", items=("JC030",))
    retired.active = False
    retired.save()
    extra = _exam("JC020")
    _exam("JC021", active=False)
    price("ZL001", category=PriceItem.Category.TREATMENT)
    page = front_desk_client.get(_new_url(ClientFactory()), **EN)
    assert page.status_code == 200
    form = page.context["form"]
    assert list(form.fields["package"].queryset) == [package]
    offered = {item.code for item in form.fields["items"].queryset}
    assert offered == {"JC001", "JC012", "JC020", "JC030"}
    assert extra.name in _body(page)


@pytest.mark.parametrize("role", ORDER_WRITERS)
def test_card_roles_order_a_package_and_the_client_becomes_an_exam_client(client_for, role):
    person = ClientFactory(is_patient=False)
    package = exam_package()
    page = client_for(role).post(_new_url(person), {"package": package.pk}, **EN)
    order = ExamOrder.objects.get()
    assert page.status_code == 302
    assert page["Location"] == order.get_absolute_url()
    assert (order.client, order.package, order.status) == (person, package, "open")
    assert _codes(order) == ["JC001", "JC012"]
    assert Client.objects.get(pk=person.pk).is_exam_client
    assert AuditEvent.objects.filter(action="create", object_id=str(order.pk)).exists()
    assert not Charge.objects.exists()  # not opened from a visit: nothing to charge


def test_a_package_with_an_extra_examination_is_charged_to_the_visit_once_each(
    front_desk_client,
):
    person = ClientFactory()
    visit = walk_in(client=person)
    package = exam_package(code="TC003", amount="480.00", items=("JC001", "JC012"))
    extra = _exam("JC020", "80.00")
    already_in = PriceItem.objects.get(code="JC001")
    data = {"package": package.pk, "items": [extra.pk, already_in.pk]}
    page = front_desk_client.post(_new_url(person, visit), data, **EN)
    assert page.status_code == 302
    order = ExamOrder.objects.get()
    assert order.visit == visit
    assert _codes(order) == ["JC001", "JC012", "JC020"]
    charged = sorted(Charge.objects.filter(visit=visit).values_list("price_item__code", "amount"))
    assert charged == [("JC020", Decimal("80.00")), ("TC003", Decimal("480.00"))]


def test_single_examinations_make_an_order_on_their_own(front_desk_client):
    person = ClientFactory()
    visit = walk_in(client=person)
    first, second = _exam("JC020", "80.00"), _exam("JC021", "50.00")
    data = {"items": [first.pk, second.pk]}
    assert front_desk_client.post(_new_url(person, visit), data).status_code == 302
    order = ExamOrder.objects.get()
    assert order.package is None and _codes(order) == ["JC020", "JC021"]
    assert Charge.objects.filter(visit=visit).count() == 2
    page = front_desk_client.get(order.get_absolute_url(), **EN)
    assert "Single examinations" in _body(page)


def test_the_page_opened_from_a_visit_says_it_charges_the_visit(front_desk_client):
    person = ClientFactory()
    visit = walk_in(client=person)
    exam_package()
    page = front_desk_client.get(_new_url(person, visit), **EN)
    assert 'data-testid="charged-visit"' in _body(page)
    assert visit.get_absolute_url() in _body(page)


def test_an_order_with_nothing_chosen_is_refused(front_desk_client):
    exam_package()
    page = front_desk_client.post(_new_url(ClientFactory()), {}, **EN)
    assert page.status_code == 422
    assert "Choose a package or at least one examination." in _body(page)
    assert not ExamOrder.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"package": "999999"},
        {"package": "x"},
        {"items": ["999999"]},
        {"items": ["x"]},
        {"items": ["{inactive}"]},
        {"items": ["{treatment}"]},
        {"package": "{retired}"},
    ],
)
def test_a_choice_not_on_the_list_is_refused_with_a_clear_error(front_desk_client, data):
    exam_package()
    inactive = _exam("JC021", active=False)
    treatment = price("ZL001", category=PriceItem.Category.TREATMENT)
    retired = exam_package(code="TC009", items=("JC030",))
    retired.active = False
    retired.save()
    ids = {"inactive": inactive.pk, "treatment": treatment.pk, "retired": retired.pk}
    data = {
        key: [v.format(**ids) for v in value] if isinstance(value, list) else value.format(**ids)
        for key, value in data.items()
    }
    page = front_desk_client.post(_new_url(ClientFactory()), data, **EN)
    assert page.status_code == 422
    assert "from the list" in _body(page)
    assert not ExamOrder.objects.exists()


def test_a_visit_of_another_client_is_refused(front_desk_client):
    package = exam_package()
    someone_else = walk_in()
    person = ClientFactory()
    page = front_desk_client.post(_new_url(person, someone_else), {"package": package.pk}, **EN)
    assert page.status_code == 422
    assert "This visit is another client&#x27;s." in _body(page)
    assert not ExamOrder.objects.exists() and not Charge.objects.exists()


def test_ordering_from_a_visit_is_for_those_who_may_charge_it(client_manager_client):
    person = ClientFactory()
    visit = walk_in(client=person)
    package = exam_package()
    assert client_manager_client.get(_new_url(person)).status_code == 200
    assert client_manager_client.get(_new_url(person, visit)).status_code == 403
    page = client_manager_client.post(_new_url(person, visit), {"package": package.pk})
    assert page.status_code == 403
    assert not ExamOrder.objects.exists()


@pytest.mark.parametrize(
    "query", ["", "?client=abc", "?client=999999", "?client={pk}&visit=x", "?client={pk}&visit=9"]
)
def test_bad_addresses_never_give_a_server_error(front_desk_client, query):
    person = ClientFactory()
    url = reverse("guide:exam_new") + query.format(pk=person.pk)
    assert front_desk_client.get(url).status_code in (200, 404)
    assert front_desk_client.post(url, {"items": ["x"]}).status_code in (200, 404)
    assert not ExamOrder.objects.exists()


def test_without_a_client_the_page_sends_you_to_find_one(front_desk_client):
    page = front_desk_client.get(reverse("guide:exam_new"), **EN)
    assert page.status_code == 200
    assert reverse("clientmgmt:client_list") in _body(page)


# --- Ticking examinations off -------------------------------------------------------


def test_ticking_an_examination_with_htmx_returns_its_row(front_desk_client):
    order = exam_order(package=exam_package())
    item = order.items.first()
    page = _tick(front_desk_client, item, "1", **HTMX)
    assert page.status_code == 200
    assert [t.name for t in page.templates] == ["guide/_exam_item.html"]
    body = _body(page)
    assert body.startswith(f'<tr id="exam-item-{item.pk}"')
    assert "<html" not in body
    assert 'name="done" value="0"' in body and "t_frontdesk" in body
    # The order's progress counter comes along out of band.
    assert 'id="exam-progress"' in body and 'hx-swap-oob="true"' in body
    assert f">1/{order.items.count()}<" in body
    item.refresh_from_db()
    assert item.done_at is not None and item.done_by.username == "t_frontdesk"
    page = _tick(front_desk_client, item, "0", **HTMX)
    assert 'name="done" value="1"' in _body(page)
    item.refresh_from_db()
    assert item.done_at is None and item.done_by is None


def test_ticking_without_htmx_goes_back_to_the_order(front_desk_client):
    order = exam_order(package=exam_package())
    page = _tick(front_desk_client, order.items.first())
    assert page.status_code == 302
    assert page["Location"] == order.get_absolute_url()
    page = front_desk_client.get(order.get_absolute_url())
    assert page.context["done"] == 1
    assert 'data-testid="progress">1/2<' in _body(page)


def test_the_rows_tick_with_htmx_and_still_work_without_it(front_desk_client):
    order = exam_order(package=exam_package())
    item = order.items.first()
    url = reverse("guide:exam_item_done", args=[item.pk])
    body = _body(front_desk_client.get(order.get_absolute_url()))
    assert f'action="{url}" hx-post="{url}" hx-target="closest tr" hx-swap="outerHTML"' in body


def test_an_examination_of_a_closed_order_cannot_be_ticked(front_desk_client):
    order = exam_order(package=exam_package())
    item = order.items.first()
    _cancel(front_desk_client, order, "client ill")
    page = _tick(front_desk_client, item, "1", **HTMX)
    assert page.status_code == 409
    assert page["HX-Redirect"] == order.get_absolute_url()
    page = _tick(front_desk_client, item, "1")
    assert page.status_code == 302
    page = front_desk_client.get(order.get_absolute_url(), **EN)
    assert "This exam order is Cancelled." in _body(page)
    item.refresh_from_db()
    assert item.done_at is None


@pytest.mark.parametrize("done", ["", "yes", "2"])
def test_a_malformed_tick_is_refused(front_desk_client, done):
    order = exam_order(package=exam_package())
    item = order.items.first()
    assert _tick(front_desk_client, item, done, **HTMX).status_code == 422
    item.refresh_from_db()
    assert item.done_at is None


def test_an_unknown_examination_is_not_found(front_desk_client):
    url = reverse("guide:exam_item_done", args=[999999])
    assert front_desk_client.post(url, {"done": "1"}).status_code == 404


# --- Completing and cancelling ------------------------------------------------------


def test_completing_needs_every_examination_ticked_and_a_summary(front_desk_client):
    order = exam_order(package=exam_package())
    first, second = order.items.all()
    _tick(front_desk_client, first)
    page = _complete(front_desk_client, order)
    assert page.status_code == 422
    assert "Tick off every examination before completing the order." in _body(page)
    _tick(front_desk_client, second)
    page = _complete(front_desk_client, order, summary="   ")
    assert page.status_code == 422
    assert "Write the result summary." in _body(page)
    order.refresh_from_db()
    assert order.status == "open"
    assert list(selectors.exam_orders_awaiting_assessment()) == []
    page = _complete(front_desk_client, order, summary="Mild eczema; see a dermatologist.")
    assert page.status_code == 302
    order.refresh_from_db()
    assert order.status == "completed" and order.completed_by.username == "t_frontdesk"
    assert order.result_summary == "Mild eczema; see a dermatologist."
    assert list(selectors.exam_orders_awaiting_assessment()) == [order]
    page = front_desk_client.get(order.get_absolute_url(), **EN)
    body = _body(page)
    assert "Mild eczema" in body and "Awaiting health assessment" in body
    assert page.context["can_change"] is False
    assert reverse("guide:exam_complete", args=[order.pk]) not in body


def test_a_completed_order_can_be_neither_completed_again_nor_cancelled(front_desk_client):
    order = exam_order(package=exam_package())
    _tick_all(front_desk_client, order)
    _complete(front_desk_client, order)
    page = _complete(front_desk_client, order)
    assert page.status_code == 409
    assert "This exam order is Completed." in _body(page)
    page = _cancel(front_desk_client, order, "changed their mind")
    assert page.status_code == 409
    order.refresh_from_db()
    assert order.status == "completed" and order.cancel_reason == ""


def test_cancelling_needs_a_reason_and_asks_first(front_desk_client):
    order = exam_order(package=exam_package())
    url = reverse("guide:exam_cancel", args=[order.pk])
    assert f'action="{url}" data-confirm=' in _body(front_desk_client.get(order.get_absolute_url()))
    page = _cancel(front_desk_client, order, "  ")
    assert page.status_code == 422
    assert "Give the reason for the cancellation." in _body(page)
    order.refresh_from_db()
    assert order.status == "open"
    page = front_desk_client.post(url, {"reason": "client ill"}, follow=True, **EN)
    assert "The exam order was cancelled." in _body(page)
    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == ("cancelled", "client ill")
    assert "client ill" in _body(page)


def test_the_order_page_prints_without_its_buttons(front_desk_client):
    order = exam_order(package=exam_package())
    body = _body(front_desk_client.get(order.get_absolute_url()))
    assert "css/print.css" in body
    assert 'class="col-lg-5 d-print-none"' in body
    assert 'class="text-end d-print-none"' in body


def test_an_unknown_order_is_not_found(front_desk_client):
    assert front_desk_client.get(reverse("guide:exam_detail", args=[999999])).status_code == 404
    assert _cancel(front_desk_client, ExamOrder(pk=999999), "x").status_code == 404


# --- Who may do what ----------------------------------------------------------------


@pytest.mark.parametrize("role", ORDER_ONLY_READERS)
def test_read_only_roles_see_orders_but_are_refused_every_change(client_for, role):
    http = client_for(role)
    package = exam_package()
    order = exam_order(package=package)
    item = order.items.first()
    assert http.get(LIST).status_code == 200
    page = http.get(order.get_absolute_url())
    assert page.status_code == 200
    assert page.context["can_change"] is False
    assert "hx-post" not in _body(page)
    assert _tick(http, item, "1", **HTMX).status_code == 403
    assert _complete(http, order).status_code == 403
    assert _cancel(http, order, "x").status_code == 403
    person = ClientFactory()
    assert http.get(_new_url(person)).status_code == 403
    assert http.post(_new_url(person), {"package": package.pk}).status_code == 403
    item.refresh_from_db()
    order.refresh_from_db()
    assert item.done_at is None and order.status == "open"
    assert ExamOrder.objects.count() == 1


def test_a_consultant_cannot_open_the_exam_orders(consultant_client):
    order = exam_order(package=exam_package())
    assert consultant_client.get(LIST).status_code == 403
    assert consultant_client.get(order.get_absolute_url()).status_code == 403


# --- The list -----------------------------------------------------------------------


def test_the_exam_list_shows_open_orders_with_their_progress_by_default(front_desk_client):
    package = exam_package()
    person = ClientFactory(name="李娜", phone="13912345678")
    order = exam_order(client=person, package=package)
    _tick(front_desk_client, order.items.first())
    page = front_desk_client.get(LIST, **EN)
    body = _body(page)
    assert list(page.context["page"].items) == [order]
    assert 'data-testid="progress">1/2<' in body
    assert "李娜" in body and "139****5678" in body and "13912345678" not in body
    assert package.price_item.name in body


def test_the_exam_list_filters_by_status_and_awaiting_assessment(front_desk_client):
    from guide import services

    package = exam_package()
    still_open = exam_order(package=package)
    cancelled = exam_order(package=package)
    _cancel(front_desk_client, cancelled, "ill")
    awaiting = exam_order(package=package)
    assessed = exam_order(package=package)
    for order in (awaiting, assessed):
        _tick_all(front_desk_client, order)
        _complete(front_desk_client, order)
    services.exam_order_mark_assessment_started(order=assessed)

    def found(status):
        page = front_desk_client.get(LIST, {"status": status})
        assert page.status_code == 200
        return list(page.context["page"].items)

    assert found("open") == [still_open]
    assert found("cancelled") == [cancelled]
    assert found("completed") == [assessed, awaiting]
    assert found("awaiting") == [awaiting]
    assert found("all") == [assessed, awaiting, cancelled, still_open]
    assert found("zzz") == [still_open]
    assert found("awaiting")[0].done_count == 2


def test_an_empty_exam_list_says_so(front_desk_client):
    assert "No exam orders here." in _body(front_desk_client.get(LIST, **EN))


def test_the_exam_list_pages_newest_first(front_desk_client):
    package = exam_package()
    orders = [exam_order(package=package) for _ in range(52)]
    first = front_desk_client.get(LIST).context["page"]
    assert len(first.items) == 50 and first.items[0] == orders[-1]
    second = front_desk_client.get(LIST, {"before": first.next_before}).context["page"]
    assert list(second.items) == [orders[1], orders[0]]
    assert second.next_before is None
    assert front_desk_client.get(LIST, {"before": "x"}).status_code == 200


def test_the_exam_list_keeps_a_fixed_query_count(front_desk_client, django_assert_max_num_queries):
    package = exam_package()
    extra = _exam("JC020")
    for _ in range(3):
        exam_order(package=package, items=[extra])
    front_desk_client.get(LIST)  # warm the session

    def count(status):
        with CaptureQueriesContext(connection) as queries:
            assert front_desk_client.get(LIST, {"status": status}).status_code == 200
        return len(queries)

    few = {status: count(status) for status in ("open", "awaiting", "all")}
    # The session, the user, the user's roles, one page of orders with their clients, packages
    # and counts of examinations done (the awaiting filter is a subquery of the same query); the
    # user menu's count of unread notifications is kept since the first page.
    assert few == {"open": 4, "awaiting": 4, "all": 4}
    for _ in range(30):
        exam_order(package=package, items=[extra])
    assert {status: count(status) for status in few} == few
    with django_assert_max_num_queries(few["open"]):
        front_desk_client.get(LIST)


def test_the_order_page_keeps_a_fixed_query_count(front_desk_client, django_assert_max_num_queries):
    small = exam_order(package=exam_package())
    big = exam_order(items=[_exam(f"JC{n:03d}") for n in range(100, 130)])
    front_desk_client.get(small.get_absolute_url())
    with CaptureQueriesContext(connection) as queries:
        front_desk_client.get(small.get_absolute_url())
    with django_assert_max_num_queries(len(queries)):
        front_desk_client.get(big.get_absolute_url())


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_front_desk_ticks_examinations_off_in_place_and_completes_the_exam(browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    roles.sync_group_permissions()
    UserFactory(username="desk", roles=[roles.FRONT_DESK])
    order = exam_order(package=exam_package())
    browser.get(browser.live_url + "/accounts/login/")
    browser.find_element(By.NAME, "auth-username").send_keys("desk")
    browser.find_element(By.NAME, "auth-password").send_keys(TEST_PASSWORD + Keys.ENTER)
    wait = WebDriverWait(browser, 30)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=main-nav]")))

    browser.get(browser.live_url + order.get_absolute_url())
    browser.execute_script("document.body.dataset.samePage = 'yes'")  # gone if the page reloads
    for item in order.items.all():
        row = f"#exam-item-{item.pk}"
        browser.find_element(By.CSS_SELECTOR, f"{row} button").click()
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, f"{row} input[value='0']")))
    assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-same-page") == "yes"
    assert order.items.filter(done_at__isnull=True).count() == 0

    form = browser.find_element(By.CSS_SELECTOR, "[data-testid=exam-complete]")
    form.find_element(By.NAME, "result_summary").send_keys("未见异常")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=result-summary]")))
    order.refresh_from_db()
    assert order.status == "completed"
    assert list(selectors.exam_orders_awaiting_assessment()) == [order]


# --- The admin ----------------------------------------------------------------------


def test_an_administrator_lists_a_package_s_examinations_in_the_admin(admin_client_):
    package = exam_package()
    extra = _exam("JC020")
    url = reverse("admin:guide_exampackage_change", args=[package.pk])
    page = admin_client_.get(url)
    assert page.status_code == 200
    assert "selectfilter" in _body(page)  # filter_horizontal
    data = {"price_item": package.price_item.pk, "items": [extra.pk], "active": "on"}
    assert admin_client_.post(url, data).status_code == 302
    assert list(package.items.values_list("code", flat=True)) == ["JC020"]
    page = admin_client_.get(reverse("admin:guide_exampackage_changelist"))
    assert page.status_code == 200 and package.price_item.name in _body(page)


def test_exam_orders_are_read_only_in_the_admin_with_their_examinations(admin_client_):
    order = exam_order(client=ClientFactory(phone="13912345678"), package=exam_package())
    page = admin_client_.get(reverse("admin:guide_examorder_changelist"), {"q": order.pk})
    assert page.status_code == 200
    assert "139****5678" in _body(page) and "13912345678" not in _body(page)
    page = admin_client_.get(reverse("admin:guide_examorder_change", args=[order.pk]))
    assert page.status_code == 200
    assert "JC001" in _body(page) or ExamOrderItem.objects.first().price_item.name in _body(page)
    assert admin_client_.get(reverse("admin:guide_examorder_add")).status_code == 403
    delete = reverse("admin:guide_examorder_delete", args=[order.pk])
    assert admin_client_.get(delete).status_code == 403


def test_triage_keywords_are_edited_in_the_list(admin_client_):
    skin = DepartmentFactory(name="皮肤科")
    hair = DepartmentFactory(name="毛发科")
    keyword = TriageKeyword.objects.create(keyword="痘痘", department=skin)
    url = reverse("admin:guide_triagekeyword_changelist")
    page = admin_client_.get(url)
    assert page.status_code == 200
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": keyword.pk,
        "form-0-department": hair.pk,
        "form-0-sort_order": "3",
        "_save": "Save",
    }
    assert admin_client_.post(url, data).status_code == 302
    keyword.refresh_from_db()
    assert (keyword.department, keyword.sort_order) == (hair, 3)


def test_visits_and_charges_are_read_only_lists_in_the_admin(admin_client_):
    visit = walk_in(client=ClientFactory(phone="13912345678"))
    from guide import services

    charge = services.charge_add(visit=visit, price_item=price("GH001"), by=None)
    for name in ("visit", "charge", "chargeimport"):
        page = admin_client_.get(reverse(f"admin:guide_{name}_changelist"))
        assert page.status_code == 200, name
        assert "13912345678" not in _body(page)
        assert admin_client_.get(reverse(f"admin:guide_{name}_add")).status_code == 403
    page = admin_client_.get(reverse("admin:guide_visit_changelist"), {"q": visit.pk})
    assert "139****5678" in _body(page)
    page = admin_client_.get(reverse("admin:guide_charge_change", args=[charge.pk]))
    assert page.status_code == 200
    delete = reverse("admin:guide_charge_delete", args=[charge.pk])
    assert admin_client_.get(delete).status_code == 403
