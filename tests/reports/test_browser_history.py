"""A manager opens the dashboard and the monthly report on a seeded history (seed_demo --days) in
a real browser: every rate on both pages is a percentage between 0 and 100, and the charts are
drawn."""

import io
import re

import pytest
from django.core.management import call_command
from django_otp.plugins.otp_totp.models import TOTPDevice
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import page_gone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "history-walk-2026"
# A number followed by a percent sign, as the pages write rates ("66.7%", "100 %", "-5%").
PERCENT = re.compile(r"(-?\d+(?:[.,]\d+)?)\s*%")


def _submit(browser, button):
    page = browser.find_element(By.TAG_NAME, "html")
    button.click()
    WebDriverWait(browser, 30).until(page_gone(page))


def _sign_in_as_manager(browser):
    from django_otp.oath import totp

    browser.get(browser.live_url + "/accounts/login/")
    browser.find_element(By.NAME, "auth-username").send_keys("manager")
    browser.find_element(By.NAME, "auth-password").send_keys(PASSWORD)
    form = "form[action='/accounts/login/'] button"
    _submit(browser, browser.find_element(By.CSS_SELECTOR, form))
    device = TOTPDevice.objects.get(user__username="manager", confirmed=True)
    browser.find_element(By.NAME, "token-otp_token").send_keys(f"{totp(device.bin_key):06d}")
    _submit(browser, browser.find_element(By.CSS_SELECTOR, form))


def _rates(text):
    return [float(number.replace(",", ".")) for number in PERCENT.findall(text)]


def test_a_manager_reads_rates_between_0_and_100_on_the_dashboard_and_the_monthly_report(
    browser,
):
    call_command(
        "seed_demo", "--password", PASSWORD, "--days", "45", "--force", stdout=io.StringIO()
    )
    _sign_in_as_manager(browser)
    wait = WebDriverWait(browser, 30)

    browser.get(browser.live_url + "/reports/")
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=funnel]")))
    main = browser.find_element(By.TAG_NAME, "main").text
    rates = _rates(main)
    assert len(rates) >= 7, main  # the month's rates, and the funnel's per channel
    assert all(0 <= value <= 100 for value in rates), rates
    # A seeded history draws the last 30 days rather than saying there is nothing yet.
    assert browser.find_elements(By.CSS_SELECTOR, "main svg")
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid=daily-empty]")

    browser.get(browser.live_url + "/reports/satisfaction/")
    wait.until(ec.presence_of_element_located((By.TAG_NAME, "h1")))
    report = browser.find_element(By.TAG_NAME, "main").text
    report_rates = _rates(report)
    assert report_rates, report
    assert all(0 <= value <= 100 for value in report_rates), report_rates
