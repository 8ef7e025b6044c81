"""My data on a phone (and in WeChat's browser): the page within the screen's width, the copy
downloaded as the person's own file, and WeChat's readers told how to open the page in the
phone's browser."""

import json

import pytest
from selenium.webdriver.common.by import By

from .conftest import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FETCH = """
const done = arguments[arguments.length - 1];
fetch(arguments[0], {credentials: "same-origin"})
  .then(r => r.text().then(body => done([r.status, r.headers.get("content-disposition"), body])))
  .catch(e => done([0, "", String(e)]));
"""


def test_a_patient_downloads_a_copy_of_their_data_on_a_phone(phone_browser, patient):
    driver = phone_browser
    browser_sign_in(driver, next_path="/my/data/")
    assert driver.find_elements(By.CSS_SELECTOR, "[data-testid=data-consent]")
    width = driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= driver.execute_script("return window.innerWidth")
    notice = driver.find_elements(By.CSS_SELECTOR, "[data-testid=data-wechat]")
    assert bool(notice) is driver.wechat
    if driver.wechat:
        assert "/my/data/" in notice[0].text
    link = driver.find_element(By.CSS_SELECTOR, "[data-testid=data-json]")
    assert link.get_attribute("download") is not None
    status, disposition, body = driver.execute_async_script(FETCH, link.get_attribute("href"))
    assert status == 200
    assert disposition.startswith("attachment;")
    assert json.loads(body)["record"]["name"] == "李娜"
