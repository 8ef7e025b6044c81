"""A consultant takes a call from a known client's number, records the enquiry as booked, and
books the expert on the next screen: the phone-to-booking path of the consultation desk."""

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from consult.models import Booking, Enquiry
from tests.clientmgmt.factories import ClientFactory
from tests.consult.factories import future_session
from tests.factories import TEST_PASSWORD, UserFactory
from zhongdu import roles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_phone_enquiry_becomes_a_booking(browser):
    roles.sync_group_permissions()
    UserFactory(username="consultant", roles=[roles.CONSULTANT])
    caller = ClientFactory(name="李娜", phone="13912345678")
    session = future_session(days=2, capacity=5)

    browser.get(browser.live_url + "/accounts/login/")
    browser.find_element(By.NAME, "username").send_keys("consultant")
    browser.find_element(By.NAME, "password").send_keys(TEST_PASSWORD + Keys.ENTER)
    wait = WebDriverWait(browser, 30, ignored_exceptions=[StaleElementReferenceException])
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=main-nav]")))

    # The telephone system pops the call screen with the caller's number, written its own way.
    browser.get(browser.live_url + "/consult/call/?phone=139-1234-5678")
    assert "李娜" in browser.find_element(By.TAG_NAME, "main").text
    assert "139****5678" in browser.find_element(By.TAG_NAME, "main").text
    form = browser.find_element(By.CSS_SELECTOR, "[data-testid=enquiry-form]")
    form.find_element(By.NAME, "question").send_keys("想约专家看痤疮")
    Select(form.find_element(By.NAME, "outcome")).select_by_value("booked")
    form.find_element(By.NAME, "topic").send_keys("痤疮" + Keys.ENTER)  # Enter saves

    # Booked: straight on to choosing the session for this client.
    wait.until(ec.url_contains(f"/consult/bookings/new/?client={caller.pk}"))
    choice = browser.find_element(By.CSS_SELECTOR, f"input[name=session][value='{session.pk}']")
    choice.send_keys(Keys.SPACE)  # choose it from the keyboard, as at a busy desk
    assert choice.is_selected()
    choice.submit()
    wait.until(ec.url_matches(r"/consult/bookings/\d+/$"))

    booking = Booking.objects.get(client=caller)
    assert booking.session == session and booking.status == Booking.Status.BOOKED
    enquiry = Enquiry.objects.get(client=caller)
    assert enquiry.outcome == "booked" and enquiry.consultant.username == "consultant"
    session.refresh_from_db()
    assert session.booked == 1
    messages = [entry["message"] for entry in browser.get_log("browser")]
    assert [m for m in messages if "Content Security Policy" in m] == [], messages
