"""Signing in on a phone (and in WeChat's browser): a wrong number, the code from the SMS, the
home page within the screen's width, signing out."""

import pytest
from selenium.webdriver.common.by import By

from .conftest import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_patient_signs_in_on_a_phone(phone_browser, patient):
    driver = phone_browser
    driver.get(driver.live_url + "/my/login/")
    driver.find_element(By.NAME, "phone").send_keys("12345")
    driver.find_element(By.CSS_SELECTOR, "[data-testid=portal-send-code]").click()
    assert (
        "有效的手机号码" in driver.find_element(By.CSS_SELECTOR, "[data-testid=portal-error]").text
    )
    browser_sign_in(driver)
    assert "李娜" in driver.find_element(By.CSS_SELECTOR, "[data-testid=portal-person]").text
    # Laid out for the phone: nothing wider than its screen.
    width = driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= driver.execute_script("return window.innerWidth")
    driver.find_element(By.CSS_SELECTOR, "[data-testid=portal-logout]").click()
    assert driver.find_element(By.NAME, "phone")
