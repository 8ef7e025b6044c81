"""A return-visit call made with one click: the client manager presses 拨打 on the return-visit
list, the row says their phone is ringing (the client next), the voice service's receipt comes,
and the outcome form opens filled in from the call; the number is on no page and in no address."""

import datetime
import json

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import NAVIGATING, page_gone
from tests.clientmgmt.factories import ClientFactory
from tests.factories import TEST_PASSWORD, UserFactory
from tests.followup.factories import make_call
from voice.models import Agent, Call
from zhongdu import roles, vms

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "browser-dial-receipt-secret-0123456789abcdef"
LINE = "+8613700000001"
PHONE = "+8613899990001"


def _click(driver, element):
    driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element
    )
    element.click()


def test_a_return_visit_call_made_with_one_click(browser, settings):
    settings.VOICE_BACKEND = "memory"
    settings.ALIYUN_VOICE_RECEIPT_SECRET = SECRET
    vms.clear()
    roles.sync_group_permissions()
    user = UserFactory(username="clientmgr", first_name="小周", roles=[roles.CLIENT_MANAGER])
    Agent.objects.create(user=user, extension="8003", line=LINE)
    task = make_call(client=ClientFactory(name="李娜", phone=PHONE), assigned_to=user)
    wait = WebDriverWait(browser, 30, ignored_exceptions=NAVIGATING)

    browser.get(browser.live_url + "/accounts/login/")
    browser.find_element(By.NAME, "auth-username").send_keys("clientmgr")
    browser.find_element(By.NAME, "auth-password").send_keys(TEST_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form[action='/accounts/login/'] button").click()
    wait.until(lambda d: "/accounts/login/" not in d.current_url)
    browser.get(browser.live_url + reverse("followup:call_list"))

    # One click on 拨打 in the call's row.
    row = wait.until(
        ec.presence_of_element_located((By.CSS_SELECTOR, f"tr[data-call='{task.pk}']"))
    )
    button = row.find_element(By.CSS_SELECTOR, "[data-testid=dial] button")
    assert button.text == "拨打"
    _click(browser, button)
    state = wait.until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=dial-state]"))
    )
    assert "正在呼叫您的电话" in state.text
    assert "138****0001" in state.text
    call = Call.objects.get()
    ((placed,),) = [vms.placed]
    assert (placed.agent, placed.to, placed.record) == (LINE, PHONE, True)

    # The client answered and they talked for 95 seconds: the receipt comes.
    start = timezone.localtime(timezone.now(), datetime.timezone(datetime.timedelta(hours=8)))
    element = {
        "call_id": call.provider_call_id,  # the receipt names the call the provider placed
        "out_id": f"call:{call.pk}",
        "status_code": "200100",
        "b_start_time": start.strftime("%Y-%m-%d %H:%M:%S"),
        "b_duration": "95",
        "end_time": start.strftime("%Y-%m-%d %H:%M:%S"),
    }
    pushed = HttpClient().post(
        reverse("voice:aliyun_receipt", args=[SECRET]),
        data=json.dumps([element]),
        content_type="application/json",
    )
    assert pushed.status_code == 200

    # Within a poll or two the row says so and offers the outcome form.
    outcome = wait.until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid=dial-outcome]"))
    )
    assert "1:35" in browser.find_element(By.CSS_SELECTOR, "[data-testid=dial-state]").text
    old = browser.find_element(By.TAG_NAME, "html")
    _click(browser, outcome)
    wait.until(page_gone(old))
    facts = wait.until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=call-facts]"))
    )
    assert "1:35" in facts.text
    assert f"?call={call.pk}" in browser.current_url
    reached = browser.find_element(By.CSS_SELECTOR, "input[name=outcome][value=reached]")
    assert reached.is_selected()
    # The number was on no page and in no address.
    for text in (browser.page_source, browser.current_url):
        assert "13899990001" not in text and "9999" not in text
