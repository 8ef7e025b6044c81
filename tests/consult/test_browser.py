"""A consultant takes a call from a known client's number, records the enquiry as booked, and
books the expert on the next screen: the phone-to-booking path of the consultation desk."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from consult.models import Booking, Enquiry
from tests.browser import NAVIGATING
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
    browser.find_element(By.NAME, "auth-username").send_keys("consultant")
    browser.find_element(By.NAME, "auth-password").send_keys(TEST_PASSWORD + Keys.ENTER)
    wait = WebDriverWait(browser, 30, ignored_exceptions=NAVIGATING)
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
    assert booking.enquiry == enquiry  # booked from the call: counted as its conversion
    session.refresh_from_db()
    assert session.booked == 1
    messages = [entry["message"] for entry in browser.get_log("browser")]
    assert [m for m in messages if "Content Security Policy" in m] == [], messages


def test_the_week_calendar_has_seven_columns_on_a_desk_and_stacks_on_a_phone(browser):
    import datetime

    from django.utils import timezone

    from tests.consult.factories import make_booking, make_vip
    from tests.zhongdu.factories import ClinicSessionFactory

    roles.sync_group_permissions()
    UserFactory(username="consultant", roles=[roles.CONSULTANT])
    today = timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday())
    for offset in range(7):
        session = ClinicSessionFactory(date=monday + datetime.timedelta(days=offset), capacity=9)
        make_booking(client=make_vip(ClientFactory(name="欧阳思思思思")), session=session, vip=True)
        make_booking(session=session)

    browser.get(browser.live_url + "/accounts/login/")
    browser.find_element(By.NAME, "auth-username").send_keys("consultant")
    browser.find_element(By.NAME, "auth-password").send_keys(TEST_PASSWORD + Keys.ENTER)
    wait = WebDriverWait(browser, 30, ignored_exceptions=NAVIGATING)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=main-nav]")))
    url = browser.live_url + "/consult/bookings/?view=week"
    days_js = (
        "return [...document.querySelectorAll('[data-testid=week-day]')]"
        ".map(d => {const r = d.getBoundingClientRect(); return [r.left, r.top, r.width];})"
    )
    overflow_js = "return document.documentElement.scrollWidth <= window.innerWidth + 1"

    # At 1366 px: seven columns side by side, today among them, nothing wider than the window.
    browser.get(url)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=week-calendar]")))
    days = browser.execute_script(days_js)
    assert len(days) == 7
    assert len({round(top) for _left, top, _width in days}) == 1
    assert [left for left, _top, _width in days] == sorted(left for left, _t, _w in days)
    assert all(width > 150 for _left, _top, width in days)
    assert len(browser.find_elements(By.CSS_SELECTOR, ".week-today[aria-current=date]")) == 1
    assert len(browser.find_elements(By.CSS_SELECTOR, ".week-bookings li")) == 14
    assert browser.execute_script(overflow_js)

    # On a phone: one day under the other, still no sideways scrolling.
    browser.set_window_size(390, 844)
    browser.get(url)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=week-calendar]")))
    days = browser.execute_script(days_js)
    tops = [top for _left, top, _width in days]
    assert tops == sorted(tops) and len(set(tops)) == 7
    assert len({round(left) for left, _top, _width in days}) == 1
    assert browser.execute_script(overflow_js)
    messages = [entry["message"] for entry in browser.get_log("browser")]
    assert [m for m in messages if "Content Security Policy" in m] == [], messages
