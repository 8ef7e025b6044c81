"""Booking on a phone (and in WeChat's browser): a returning client chooses an expert's open
session, books it, and finds it in their bookings within the screen's width."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from consult.models import Booking
from guide.services import visit_register_walk_in
from tests.consult.factories import future_session

from .conftest import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _testid(driver, name):
    return WebDriverWait(driver, 10).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, f"[data-testid={name}]"))
    )


def test_a_returning_patient_books_a_session_on_a_phone(phone_browser, patient):
    visit_register_walk_in(client=patient, by=None)
    session = future_session(days=3)
    driver = phone_browser
    browser_sign_in(driver)
    driver.find_element(By.CSS_SELECTOR, "[data-testid=portal-nav] a[href='/my/bookings/']").click()
    _testid(driver, "portal-no-upcoming")
    driver.find_element(By.CSS_SELECTOR, "[data-testid=portal-book]").click()
    Select(driver.find_element(By.NAME, "expert")).select_by_value(str(session.expert_id))
    driver.find_element(By.CSS_SELECTOR, "[data-testid=portal-show-sessions]").click()
    _testid(driver, "portal-session").click()
    driver.find_element(By.CSS_SELECTOR, "[data-testid=portal-book-submit]").click()
    _testid(driver, "portal-done")
    booking = Booking.objects.get(client=patient)
    assert booking.source == Booking.Source.PORTAL
    driver.find_element(By.PARTIAL_LINK_TEXT, "我的预约").click()
    row = _testid(driver, "portal-upcoming")
    assert f"{session.date:%Y-%m-%d}" in row.text and session.expert.name in row.text
    width = driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= driver.execute_script("return window.innerWidth")
