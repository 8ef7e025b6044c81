"""The portal's shared fixtures: a client with a mobile, and a browserless sign-in as them."""

import re

import pytest
from django.urls import reverse

from messaging.models import OutboxMessage
from messaging.services import outbox_send
from tests.clientmgmt.factories import ClientFactory
from zhongdu import sms

PHONE = "13812345678"
E164 = "+86" + PHONE


@pytest.fixture
def patient(db, memory_sms):
    return ClientFactory(name="李娜", phone=E164)


def send_codes():
    """Run the outbox's real send task for what is pending; the codes the SMS carried."""
    for message in OutboxMessage.objects.filter(status="pending"):
        outbox_send(message_id=message.pk)
    return [re.search(r"\d{6}", sent.body).group() for sent in sms.outbox]


def ask_code(client, phone=PHONE, **extra):
    return client.post(reverse("portal:login"), {"phone": phone}, **extra)


def enter_code(client, code, **extra):
    return client.post(reverse("portal:login_code"), {"code": code}, **extra)


def sign_in(client, phone=PHONE):
    sms.clear()
    ask_code(client, phone)
    (code,) = send_codes()
    answer = enter_code(client, code)
    assert answer.status_code == 302, answer.content
    return answer


@pytest.fixture
def signed_in(client, patient):
    """The test client signed in to the portal as `patient`."""
    sign_in(client)
    return client


@pytest.fixture(params=["phone", "wechat"])
def phone_browser(request, live_server):
    """Headless Chromium at a phone's size, as a plain mobile browser and as WeChat's; a
    screenshot when the test fails."""
    from tests.browser import (
        PHONE_SIZE,
        WECHAT_USER_AGENT,
        browser_available,
        make_driver,
        save_screenshot,
    )

    if not browser_available:
        pytest.skip("needs Debian's chromium and chromium-driver (CI installs them)")
    agent = WECHAT_USER_AGENT if request.param == "wechat" else None
    driver = make_driver(user_agent=agent, **PHONE_SIZE)
    driver.live_url = live_server.url
    driver.wechat = request.param == "wechat"
    yield driver
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        save_screenshot(driver, request.node.name)
    driver.quit()


def browser_sign_in(driver, phone=PHONE, next_path="/my/"):
    """Sign in as the portal's user would: the number, the code from the SMS (sent by the
    outbox's real task), the home page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    sms.clear()
    driver.get(driver.live_url + next_path)
    driver.find_element(By.NAME, "phone").send_keys(phone)
    driver.find_element(By.CSS_SELECTOR, "[data-testid=portal-send-code]").click()
    WebDriverWait(driver, 10).until(ec.presence_of_element_located((By.NAME, "code")))
    (code,) = send_codes()
    driver.find_element(By.NAME, "code").send_keys(code)
    driver.find_element(By.CSS_SELECTOR, "[data-testid=portal-verify]").click()
    WebDriverWait(driver, 10).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=portal-bar]"))
    )
