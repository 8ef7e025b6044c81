"""The product on a phone (390 x 844, an iPhone 12 to 15): the navigation folds behind the
toggler, opens with its department drop-downs, and no page scrolls sideways."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import NAVIGATING
from tests.factories import TEST_PASSWORD, UserFactory
from zhongdu import roles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 390, 844
NO_SIDEWAYS_SCROLL = "return document.documentElement.scrollWidth <= window.innerWidth + 1"


@pytest.fixture
def phone(request, live_server):
    """Headless Chromium with a phone's viewport; screenshots itself when the test fails."""
    from tests.browser import browser_available, make_driver, save_screenshot

    if not browser_available:
        pytest.skip("needs Debian's chromium and chromium-driver (CI installs them)")
    driver = make_driver(width=WIDTH, height=HEIGHT)
    # Chromium keeps even a headless window at least 500 px wide: emulate the phone's viewport
    # instead (mobile, so the page's meta viewport applies and scrollbars overlay as on a phone).
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 3, "mobile": True},
    )
    driver.live_url = live_server.url
    yield driver
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        save_screenshot(driver, request.node.name)
    driver.quit()


def _opened(nav):
    classes = nav.get_attribute("class").split()
    return nav.is_displayed() and "show" in classes and "collapsing" not in classes


def test_the_front_desk_finds_its_way_on_a_phone(phone):
    roles.sync_group_permissions()
    UserFactory(username="frontdesk", first_name="小王", roles=[roles.FRONT_DESK])
    wait = WebDriverWait(phone, 30, ignored_exceptions=NAVIGATING)

    phone.get(phone.live_url + "/accounts/login/")
    assert phone.execute_script("return window.innerWidth") == WIDTH
    assert phone.execute_script(NO_SIDEWAYS_SCROLL)
    phone.find_element(By.NAME, "auth-username").send_keys("frontdesk")
    phone.find_element(By.NAME, "auth-password").send_keys(TEST_PASSWORD)
    phone.find_element(By.CSS_SELECTOR, "form[action='/accounts/login/'] button").click()
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "您好，小王"))

    # The navigation is folded behind the toggler.
    nav = phone.find_element(By.ID, "main-nav")
    toggler = phone.find_element(By.CSS_SELECTOR, "button.navbar-toggler")
    assert not nav.is_displayed()
    assert toggler.is_displayed()
    assert toggler.get_attribute("aria-expanded") == "false"
    assert phone.execute_script(NO_SIDEWAYS_SCROLL)

    toggler.click()
    wait.until(lambda _driver: _opened(nav))
    assert toggler.get_attribute("aria-expanded") == "true"
    menu = phone.find_element(By.CSS_SELECTOR, "[data-testid=main-nav]")
    assert "工作台" in menu.text and "客户" in menu.text
    assert "审计日志" not in menu.text and "系统管理" not in menu.text

    # The consultation desk's drop-down opens in place and lists its pages.
    bookings = menu.find_element(By.CSS_SELECTOR, "a.dropdown-item[href='/consult/bookings/']")
    dropdown = bookings.find_element(By.XPATH, "ancestor::li[contains(@class, 'dropdown')]")
    assert not bookings.is_displayed()
    dropdown.find_element(By.CSS_SELECTOR, ".dropdown-toggle").click()
    wait.until(ec.visibility_of(bookings))
    assert bookings.location["x"] + bookings.size["width"] <= WIDTH

    bookings.click()
    wait.until(ec.url_contains("/consult/bookings/"))
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=bookings]")))
    assert not phone.find_element(By.ID, "main-nav").is_displayed()  # folded again
    assert phone.execute_script(NO_SIDEWAYS_SCROLL)

    # Every page of the front desk's navigation fits the phone's width.
    links = [
        link.get_attribute("href")
        for link in phone.find_elements(By.CSS_SELECTOR, "[data-testid=main-nav] a[href^='/']")
    ]
    assert len(links) >= 5
    wide = []
    for url in links:
        phone.get(url)
        wait.until(ec.presence_of_element_located((By.TAG_NAME, "h1")))
        if not phone.execute_script(NO_SIDEWAYS_SCROLL):
            wide.append(url)
    assert wide == []
    messages = [entry["message"] for entry in phone.get_log("browser")]
    assert [m for m in messages if "Content Security Policy" in m] == [], messages
