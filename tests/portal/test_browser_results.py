"""Looking up results on a phone (and in WeChat's browser): only released results are listed,
an order's values read within the screen's width, and WeChat gets the open-in-browser steps."""

import pytest
from selenium.webdriver.common.by import By

from tests.exams.assessment_factories import released_order
from tests.exams.factories import number_definition, order_with, record

from .conftest import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_patient_sees_only_released_results_on_a_phone(phone_browser, patient):
    driver = phone_browser
    shown = released_order(client=patient)
    definition = number_definition("JC301")
    hidden = order_with(definition, client=patient)
    record(hidden, definition, number="7.7")
    browser_sign_in(driver, next_path="/my/results/")
    orders = driver.find_elements(By.CSS_SELECTOR, "[data-testid=portal-result-order]")
    assert len(orders) == 1
    assert f"/my/results/{shown.pk}/" in orders[0].get_attribute("href")
    orders[0].click()
    items = driver.find_element(By.CSS_SELECTOR, "[data-testid=portal-result-items]").text
    assert "白细胞计数" in items and "5.2" in items and "7.7" not in items
    width = driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= driver.execute_script("return window.innerWidth")
    report = driver.find_element(By.CSS_SELECTOR, "[data-testid=portal-report]").text
    if driver.wechat:
        assert "在浏览器打开" in report
        assert not driver.find_elements(By.CSS_SELECTOR, "[data-testid=portal-report-link]")
    else:
        assert driver.find_element(By.CSS_SELECTOR, "[data-testid=portal-report-link]")
