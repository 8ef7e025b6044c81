"""A person on their phone asks for an appointment on /book/: the page names the hospital and its
hotline, shows the privacy notice, and will not take their skin concern without their consent to
its processing; the consents they give are kept with the notice's version (issue 16)."""

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from clientmgmt.models import ConsentEvent
from clientmgmt.selectors import consent_states
from consult import services
from consult.models import Enquiry
from tests.browser import NAVIGATING, page_gone
from tests.clientmgmt.factories import ClientFactory
from zhongdu.services import hospital_profile_add

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTICE = "我们仅为安排您的就诊处理您提供的健康信息，不会用于其他目的。"


# Bootstrap scrolls smoothly: a tap must wait for nothing, so the scroll is instant.
SCROLL = "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})"


def _submit(browser, wait):
    button = browser.find_element(By.NAME, "send")
    browser.execute_script(SCROLL, button)
    button.click()
    wait.until(page_gone(button))


def test_a_request_from_a_phone_needs_the_health_consent_and_keeps_both(browser):
    hospital_profile_add(
        by=None,
        display_name="中都皮肤病医院",
        address="郑州市中原区建设路88号",
        hotline="0371-6666 8888",
        privacy_notice=NOTICE,
        privacy_notice_version="2026-12",
    )
    browser.set_window_size(375, 812)
    wait = WebDriverWait(browser, 30, ignored_exceptions=NAVIGATING)
    browser.get(browser.live_url + reverse("consult:public_book"))
    wait.until(ec.presence_of_element_located((By.NAME, "health_data")))

    # The hospital, not the staff product; nothing wider than the phone.
    header = browser.find_element(By.CSS_SELECTOR, "[data-testid=public-header]")
    assert "中都皮肤病医院" in header.text and "0371-6666 8888" in header.text
    assert "中都客服" not in browser.find_element(By.TAG_NAME, "body").text
    assert browser.execute_script("return window.innerWidth") <= 375
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth + 1"
    )
    # The notice is folded away on the phone and opens when tapped.
    notice = browser.find_element(By.CSS_SELECTOR, "[data-testid=privacy-notice]")
    assert NOTICE not in notice.text
    summary = notice.find_element(By.TAG_NAME, "summary")
    assert "2026-12" in summary.text
    browser.execute_script(SCROLL, summary)
    summary.click()
    wait.until(lambda d: NOTICE in notice.text)
    # Two separate ticks, neither ticked for the person.
    health = browser.find_element(By.NAME, "health_data")
    marketing = browser.find_element(By.NAME, "marketing_sms")
    assert not health.is_selected() and not marketing.is_selected()

    browser.find_element(By.NAME, "name").send_keys("赵敏")
    browser.find_element(By.NAME, "phone").send_keys("139 1234 0000")
    browser.find_element(By.NAME, "message").send_keys("脸上长了红斑，想看皮肤科")
    _submit(browser, wait)

    # Without the consent: refused, in Chinese, with what was typed kept.
    error = wait.until(ec.visibility_of_element_located((By.ID, "error_1_id_health_data")))
    assert "请同意我们处理您的健康信息" in error.text
    assert browser.find_element(By.NAME, "message").get_attribute("value").startswith("脸上")
    assert not Enquiry.objects.exists()

    for name in ("health_data", "marketing_sms"):
        box = browser.find_element(By.NAME, name)
        browser.execute_script(SCROLL, box)
        box.click()
        assert box.is_selected()
    _submit(browser, wait)
    wait.until(ec.url_contains(reverse("consult:public_book_thanks")))
    thanks = browser.find_element(By.CSS_SELECTOR, "[data-testid=book-thanks]")
    assert "我们已收到您的预约申请" in thanks.text
    assert "中都皮肤病医院" in browser.find_element(By.CSS_SELECTOR, "header").text

    enquiry = Enquiry.objects.get()
    assert enquiry.consents == {"health_data": True, "marketing_sms": True}
    assert enquiry.notice_version == "2026-12"
    # Once the consultant has the caller on file, the health consent is the client's; the
    # marketing tick waits for the consultant to confirm it with the person.
    person = ClientFactory(name="赵敏", phone="+8613912340000")
    services.enquiries_attach_to_client(client=person)
    assert consent_states(person) == {
        "health_data": True,
        "service_sms": True,
        "marketing_sms": False,
        "service_voice": False,
        "employer_aggregate": False,
    }
    assert set(
        ConsentEvent.objects.filter(client=person).values_list("channel", "notice_version")
    ) == {("public_page", "2026-12")}
    messages = [entry["message"] for entry in browser.get_log("browser")]
    assert [m for m in messages if "Content Security Policy" in m] == [], messages
