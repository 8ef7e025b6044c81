"""The front desk's morning: check a booked client in from the board, register a walk-in who
turns out to be on record already, triage both, and move them through the visit states."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from clientmgmt.models import Client
from consult.models import Booking
from guide.models import Visit
from tests.browser import NAVIGATING, page_gone
from tests.clientmgmt.factories import ClientFactory
from tests.factories import TEST_PASSWORD, UserFactory
from tests.guide.factories import booked_today, keyword, today_session
from tests.zhongdu.factories import DepartmentFactory, ExpertFactory
from zhongdu import roles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _click_status(browser, wait, to):
    old = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(
        By.CSS_SELECTOR, f"[data-testid=visit-actions] button[data-to={to}]"
    ).click()
    wait.until(page_gone(old))


def test_the_morning_flow_at_the_front_desk(browser):
    roles.sync_group_permissions()
    UserFactory(username="frontdesk", first_name="小王", roles=[roles.FRONT_DESK])
    skin = DepartmentFactory(name="皮肤科", floor="2F")
    allergy = DepartmentFactory(name="过敏反应科", floor="3F")
    keyword("荨麻疹", allergy)
    doctor = ExpertFactory(name="陈主任", departments=[allergy])
    today_session(department=allergy, expert=doctor)
    booking = booked_today(
        client=ClientFactory(name="王芳", phone="13811112222"),
        session=today_session(department=skin, expert=ExpertFactory(departments=[skin])),
    )
    regular = ClientFactory(name="李娜", phone="13933334444")

    browser.get(browser.live_url + "/accounts/login/")
    browser.find_element(By.NAME, "auth-username").send_keys("frontdesk")
    browser.find_element(By.NAME, "auth-password").send_keys(TEST_PASSWORD + Keys.ENTER)
    wait = WebDriverWait(browser, 30, ignored_exceptions=NAVIGATING)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=main-nav]")))

    # The board: 王芳 is expected; one click checks her in and opens her triage.
    browser.get(browser.live_url + "/guide/today/")
    board = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=board]")))
    assert "王芳" in board.text and "138****2222" in board.text
    board.find_element(By.CSS_SELECTOR, "[data-testid=check-in]").click()
    wait.until(ec.url_matches(r"/guide/visits/\d+/$"))
    # Her booking's department and doctor are already chosen: confirm the triage.
    assert Select(browser.find_element(By.NAME, "department")).first_selected_option.text == (
        "皮肤科 · 2F"
    )
    browser.find_element(By.NAME, "chief_complaint").send_keys("面部痤疮复诊")
    old = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=triage-submit]").click()
    wait.until(page_gone(old))
    wait.until(ec.url_contains("/guide/today/"))

    # A walk-in gives her number: she is on record already, so no new record is made.
    browser.find_element(By.CSS_SELECTOR, "[data-testid=walk-in-button]").click()
    wait.until(ec.url_contains("/guide/walk-in/"))
    phone = wait.until(ec.element_to_be_clickable((By.NAME, "phone")))
    phone.send_keys("139 3333 4444" + Keys.ENTER)
    matches = wait.until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=walk-in-matches]"))
    )
    assert "李娜" in matches.text
    matches.find_element(By.CSS_SELECTOR, "[data-testid=register-existing]").click()
    wait.until(ec.url_matches(r"/guide/visits/\d+/$"))

    # Triage by her complaint: the keyword suggests the department, the doctor list follows.
    browser.find_element(By.NAME, "chief_complaint").send_keys("全身荨麻疹")
    suggestion = wait.until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid=triage-suggestions] button"))
    )
    assert "过敏反应科 · 3F" in suggestion.text
    suggestion.click()
    wait.until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, "[data-testid=doctor-select]"), "陈主任")
    )
    Select(browser.find_element(By.NAME, "expert")).select_by_value(str(doctor.pk))
    old = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=triage-submit]").click()
    wait.until(page_gone(old))

    # Both are waiting on the board; move each to the doctor and done.
    rows = browser.find_elements(By.CSS_SELECTOR, "[data-testid=board-row][data-state=waiting]")
    assert len(rows) == 2
    for visit in Visit.objects.order_by("pk"):
        browser.get(browser.live_url + visit.get_absolute_url())
        _click_status(browser, wait, "with_doctor")
        _click_status(browser, wait, "done")
        assert "完成" in browser.find_element(By.CSS_SELECTOR, "[data-testid=visit-status]").text

    booking.refresh_from_db()
    assert booking.status == Booking.Status.ARRIVED
    assert Client.objects.filter(phone="+8613933334444").count() == 1
    first, second = Visit.objects.order_by("pk")
    assert (first.client, first.department, first.status) == (booking.client, skin, "done")
    assert (second.client, second.department, second.expert) == (regular, allergy, doctor)
    assert second.status == "done" and second.seen_at and second.finished_at
    browser.get(browser.live_url + "/guide/today/")
    done = browser.find_elements(By.CSS_SELECTOR, "[data-testid=board-row][data-state=done]")
    assert len(done) == 2
    messages = [entry["message"] for entry in browser.get_log("browser")]
    assert [m for m in messages if "Content Security Policy" in m] == [], messages
