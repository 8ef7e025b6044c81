import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import NAVIGATING
from tests.clientmgmt.factories import ClientFactory
from tests.factories import TEST_PASSWORD, UserFactory
from zhongdu import roles
from zhongdu.models import AuditEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_front_desk_finds_a_client_by_last_four_digits_reveals_the_phone_and_it_is_audited(
    browser,
):
    roles.sync_group_permissions()
    UserFactory(username="frontdesk", roles=[roles.FRONT_DESK])
    client = ClientFactory(name="李娜", phone="13912345678")
    ClientFactory(name="王芳", phone="13800001111")

    browser.get(browser.live_url + "/accounts/login/")
    browser.find_element(By.NAME, "auth-username").send_keys("frontdesk")
    browser.find_element(By.NAME, "auth-password").send_keys(TEST_PASSWORD + Keys.ENTER)
    wait = WebDriverWait(browser, 30, ignored_exceptions=NAVIGATING)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=main-nav]")))

    browser.get(browser.live_url + "/clients/")
    search = browser.find_element(By.ID, "client-q")
    search.send_keys("5678")  # htmx searches as the user types
    wait.until(lambda d: "李娜" in d.find_element(By.CSS_SELECTOR, "#client-results").text)
    results = browser.find_element(By.ID, "client-results").text
    assert "139****5678" in results and "王芳" not in results
    search.send_keys(Keys.ARROW_DOWN)  # into the results, then open with Enter
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    wait.until(ec.url_contains(f"/clients/{client.pk}/"))
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=masked-phone]").text == "139****5678"

    browser.find_element(By.CSS_SELECTOR, "[data-testid=reveal-phone]").click()
    reason = browser.find_element(By.CSS_SELECTOR, "#reveal-phone input[name=reason]")
    reason.send_keys("回电确认预约" + Keys.ENTER)
    wait.until(
        ec.text_to_be_present_in_element(
            (By.CSS_SELECTOR, "[data-testid=revealed-phone]"), "13912345678"
        )
    )
    event = AuditEvent.objects.get(action="reveal")
    assert event.actor_username == "frontdesk"
    assert event.object_id == str(client.pk)
    assert event.reason == "回电确认预约"
    messages = [entry["message"] for entry in browser.get_log("browser")]
    assert [m for m in messages if "Content Security Policy" in m] == [], messages
