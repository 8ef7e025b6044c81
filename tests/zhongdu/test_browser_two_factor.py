"""A manager's first sign-in in a real browser: sent to set up an authenticator app, types the
key shown (the test computes the app's code), reaches the workbench; signs out and back in with
the password and a code."""

from base64 import b32decode

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import NAVIGATING, page_gone
from tests.factories import TEST_PASSWORD, UserFactory
from zhongdu import roles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TESTID = "[data-testid={}]".format


def _submit(browser, button):
    page = browser.find_element(By.TAG_NAME, "html")
    button.click()
    WebDriverWait(browser, 30).until(page_gone(page))


def _password(browser):
    browser.get(browser.live_url + "/accounts/login/")
    browser.find_element(By.NAME, "auth-username").send_keys("boss")
    browser.find_element(By.NAME, "auth-password").send_keys(TEST_PASSWORD)
    _submit(
        browser, browser.find_element(By.CSS_SELECTOR, "form[action='/accounts/login/'] button")
    )


def test_a_manager_sets_up_an_app_then_signs_in_with_its_code(browser):
    roles.sync_group_permissions()
    UserFactory(username="boss", first_name="老赵", roles=[roles.MANAGER])
    wait = WebDriverWait(browser, 30, ignored_exceptions=NAVIGATING)

    # The password is right, but the manager has no device yet: sent to set one up.
    _password(browser)
    wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, TESTID("setup-required"))))
    assert "身份验证器" in browser.find_element(By.CSS_SELECTOR, TESTID("setup-required")).text
    _submit(browser, browser.find_element(By.CSS_SELECTOR, TESTID("setup-next")))

    # The key shown is what the app takes; its first code turns two-factor sign-in on.
    secret = wait.until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, TESTID("totp-secret")))
    ).text
    qr = browser.find_element(By.CSS_SELECTOR, "img[src='/accounts/two_factor/qrcode/']")
    assert browser.execute_script("return arguments[0].naturalWidth", qr) > 0
    code = browser.find_element(By.NAME, "generator-token")
    page = browser.find_element(By.TAG_NAME, "html")
    code.send_keys(f"{totp(b32decode(secret)):06d}" + Keys.ENTER)  # Enter submits, not Back
    wait.until(page_gone(page))
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "您好，老赵"))
    assert "两步验证登录已开启" in browser.find_element(By.TAG_NAME, "main").text
    device = TOTPDevice.objects.get(user__username="boss")
    assert device.confirmed

    # Signing out and in again: the password alone leads to the code, not in.
    browser.find_element(By.CSS_SELECTOR, TESTID("user-menu")).click()
    sign_out = wait.until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, "form[action='/accounts/logout/'] button"))
    )
    _submit(browser, sign_out)
    _password(browser)
    wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, TESTID("code-step"))))
    browser.find_element(By.NAME, "token-otp_token").send_keys(f"{totp(device.bin_key):06d}")
    _submit(
        browser, browser.find_element(By.CSS_SELECTOR, "form[action='/accounts/login/'] button")
    )
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "您好，老赵"))
    assert "报表" in browser.find_element(By.CSS_SELECTOR, TESTID("main-nav")).text
    messages = [entry["message"] for entry in browser.get_log("browser")]
    assert [m for m in messages if "Content Security Policy" in m] == [], messages
