import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import NAVIGATING, page_gone
from tests.factories import TEST_PASSWORD, UserFactory
from zhongdu import roles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(browser, username):
    browser.get(browser.live_url + "/accounts/login/")
    browser.find_element(By.NAME, "auth-username").send_keys(username)
    browser.find_element(By.NAME, "auth-password").send_keys(TEST_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form[action='/accounts/login/'] button").click()


def test_the_front_desk_signs_in_sees_its_navigation_and_switches_language(browser):
    roles.sync_group_permissions()
    UserFactory(username="frontdesk", first_name="小王", roles=[roles.FRONT_DESK])

    browser.get(browser.live_url + "/accounts/login/")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-hans"
    assert "登录" in browser.find_element(By.TAG_NAME, "h1").text

    _sign_in(browser, "frontdesk")
    wait = WebDriverWait(browser, 30, ignored_exceptions=NAVIGATING)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "您好，小王"))
    nav = browser.find_element(By.CSS_SELECTOR, "[data-testid=main-nav]").text
    assert "工作台" in nav
    assert "审计日志" not in nav and "系统管理" not in nav

    old_page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(
        By.CSS_SELECTOR, "[data-testid=language-switcher] button[value=en]"
    ).click()
    wait.until(page_gone(old_page))
    wait.until(
        lambda driver: driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    )
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Welcome, 小王"))
    assert "Workbench" in browser.find_element(By.CSS_SELECTOR, "[data-testid=main-nav]").text
    # The pages ran under the Content-Security-Policy and no script or style was refused.
    messages = [entry["message"] for entry in browser.get_log("browser")]
    assert [m for m in messages if "Content Security Policy" in m] == [], messages
