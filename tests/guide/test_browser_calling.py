"""Calling in a real browser: the front desk triages two patients to one department, the doctor
calls, recalls and skips them at the calling station, and the waiting-room screen (another
browser, never signed in) follows within seconds with their masked names only."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from guide import services
from guide.models import QueueTicket
from tests.browser import NAVIGATING, make_driver, page_gone
from tests.clientmgmt.factories import ClientFactory
from tests.factories import TEST_PASSWORD, UserFactory
from tests.guide.factories import today_session
from tests.zhongdu.factories import DepartmentFactory, ExpertFactory
from zhongdu import roles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(browser, wait, username):
    browser.delete_all_cookies()
    browser.get(browser.live_url + "/accounts/login/")
    browser.find_element(By.NAME, "auth-username").send_keys(username)
    browser.find_element(By.NAME, "auth-password").send_keys(TEST_PASSWORD + Keys.ENTER)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=main-nav]")))


def _press(browser, wait, selector):
    """Press a station button and wait for the station to come back (the queue part also
    replaces itself when it polls, so the button is looked up afresh until the click lands)."""
    old = browser.find_element(By.TAG_NAME, "html")
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, selector))).click()
    wait.until(page_gone(old))
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=calling-queue]")))


def _screen_shows(screen, testid, text):
    # Polled every 3 seconds: allow a few polls.
    WebDriverWait(screen, 15, ignored_exceptions=NAVIGATING).until(
        lambda driver: text in driver.find_element(By.CSS_SELECTOR, f"[data-testid={testid}]").text
    )


def _latest_called(screen):
    return screen.find_element(By.CSS_SELECTOR, ".queue-display-latest").text


def test_the_doctor_calls_recalls_and_skips_while_the_waiting_room_screen_follows(browser):
    roles.sync_group_permissions()
    UserFactory(username="frontdesk", first_name="小王", roles=[roles.FRONT_DESK])
    UserFactory(username="doctor", first_name="陈医生", roles=[roles.CLINICIAN])
    skin = DepartmentFactory(name="皮肤科", floor="2F")
    today_session(department=skin, expert=ExpertFactory(name="陈主任", departments=[skin]))
    visits = [
        services.visit_register_walk_in(client=ClientFactory(name=name), by=None)
        for name in ("张小伟", "欧阳小明")
    ]
    link = services.display_screen_create(name="二楼候诊区", department=skin, by=None)

    # The waiting-room screen: its own browser, never signed in.
    screen = make_driver(width=1280, height=720)
    try:
        screen.get(browser.live_url + link.get_absolute_url())
        WebDriverWait(screen, 30).until(
            ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=display]"))
        )

        # The front desk triages both to the skin clinic: they get numbers 001 and 002.
        wait = WebDriverWait(browser, 30, ignored_exceptions=NAVIGATING)
        _sign_in(browser, wait, "frontdesk")
        for visit in visits:
            browser.get(browser.live_url + visit.get_absolute_url())
            Select(browser.find_element(By.NAME, "department")).select_by_visible_text(
                "皮肤科 · 2F"
            )
            old = browser.find_element(By.TAG_NAME, "html")
            browser.find_element(By.CSS_SELECTOR, "[data-testid=triage-submit]").click()
            wait.until(page_gone(old))
            wait.until(ec.url_contains("/guide/today/"))
        _screen_shows(screen, "waiting-rows", "001 张*伟")
        _screen_shows(screen, "waiting-rows", "002 欧**明")

        # The doctor's station lists them by number and calls the first.
        _sign_in(browser, wait, "doctor")
        browser.get(browser.live_url + f"/guide/calling/?department={skin.pk}")
        waiting = wait.until(
            ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=waiting]"))
        )
        assert "张小伟" in waiting.text and "欧阳小明" in waiting.text
        _press(browser, wait, "[data-testid=call-next]")
        _screen_shows(screen, "called-row", "001 张*伟")

        # Called again: the same number, called twice.
        _press(browser, wait, "[data-testid=called] [data-testid=recall]")
        first = QueueTicket.objects.get(visit=visits[0])
        assert (first.number, first.calls) == (1, 2)

        # Not there: skipped, and the next one is called.
        _press(browser, wait, "[data-testid=called] [data-testid=skip]")
        _screen_shows(screen, "skipped-rows", "001 张*伟")
        _press(browser, wait, "[data-testid=call-next]")
        _screen_shows(screen, "called-row", "002 欧**明")
        assert "欧**明" in _latest_called(screen)

        # He comes back: called back with the number he had.
        _press(browser, wait, "[data-testid=call-back]")
        WebDriverWait(screen, 15, ignored_exceptions=NAVIGATING).until(
            lambda driver: "001 张*伟" in _latest_called(driver)
        )
        first.refresh_from_db()
        assert (first.number, first.status, first.calls) == (1, "called", 3)

        # The screen never showed a full name.
        text = screen.find_element(By.TAG_NAME, "body").text
        assert "张小伟" not in text and "欧阳小明" not in text
    finally:
        screen.quit()
