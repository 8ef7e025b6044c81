"""From a low survey score to a closed complaint with its result: a patient answers the survey
behind the visit slip's QR code badly and says they want to complain; the client manager finds
the complaint (and the service-recovery call) in their queue, works it through every step and
closes it with the result and the call back to the client."""

import datetime

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from complaints.models import Complaint
from followup.models import FollowUpCall
from surveys import services as surveys
from surveys.models import SurveyQuestion
from tests.browser import NAVIGATING, page_gone
from tests.clientmgmt.factories import ClientFactory
from tests.factories import TEST_PASSWORD, UserFactory
from tests.guide.factories import triaged, walk_in
from tests.surveys.factories import satisfaction_survey
from tests.zhongdu.factories import DepartmentFactory
from zhongdu import roles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _click(driver, element):
    driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element
    )
    element.click()


def _submit_and_wait(driver, wait, element):
    old = driver.find_element(By.TAG_NAME, "html")
    _click(driver, element)
    wait.until(page_gone(old))
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")


def test_a_low_survey_score_becomes_a_complaint_closed_with_its_result(browser):
    roles.sync_group_permissions()
    UserFactory(username="clientmgr", first_name="小周", roles=[roles.CLIENT_MANAGER])
    template = satisfaction_survey()
    visit = triaged(walk_in(client=ClientFactory(name="王小红")), department=DepartmentFactory())
    invitation = surveys.invitation_for_visit(visit=visit)
    wait = WebDriverWait(browser, 30, ignored_exceptions=NAVIGATING)

    # The patient, not signed in, answers the survey: ones everywhere, and a complaint.
    browser.get(browser.live_url + invitation.get_absolute_url())
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=survey-form]")))
    for question in template.questions.all():
        if question.type == SurveyQuestion.Type.SCALE:
            _click(
                browser, browser.find_element(By.CSS_SELECTOR, f"label[for='id_q{question.pk}_1']")
            )
        elif question.type == SurveyQuestion.Type.RECOMMEND:
            _click(
                browser, browser.find_element(By.CSS_SELECTOR, f"label[for='id_q{question.pk}_0']")
            )
        else:
            field = browser.find_element(By.NAME, f"q{question.pk}")
            field.send_keys("导医态度差，候诊两个小时没人管，我要投诉")
    form = browser.find_element(By.CSS_SELECTOR, "[data-testid=survey-form]")
    _submit_and_wait(browser, wait, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    complaint = Complaint.objects.get()
    assert complaint.channel == Complaint.Channel.SURVEY
    # It came in this morning; the client manager takes it up a little later.
    Complaint.objects.filter(pk=complaint.pk).update(
        received_at=timezone.now() - datetime.timedelta(hours=2)
    )
    assert FollowUpCall.objects.filter(reason="service_recovery", client=visit.client).exists()

    # The client manager signs in and finds it in their queue.
    browser.get(browser.live_url + "/accounts/login/")
    browser.find_element(By.NAME, "auth-username").send_keys("clientmgr")
    browser.find_element(By.NAME, "auth-password").send_keys(TEST_PASSWORD + Keys.ENTER)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=main-nav]")))
    browser.get(browser.live_url + "/clientmgmt/complaints/")
    link = wait.until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, f"a[href='{complaint.get_absolute_url()}']"))
    )
    _submit_and_wait(browser, wait, link)
    assert "我要投诉" in browser.find_element(By.CSS_SELECTOR, "[data-testid=complaint-words]").text
    if browser.find_elements(By.CSS_SELECTOR, "[data-testid=complaint-take-over] button"):
        _submit_and_wait(
            browser,
            wait,
            browser.find_element(By.CSS_SELECTOR, "[data-testid=complaint-take-over] button"),
        )

    # Acknowledge, investigate, resolve (with the findings and the action), close.
    for status in ("acknowledged", "investigating", "resolved"):
        step = wait.until(
            ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=complaint-step]"))
        )
        if status == "resolved":
            step.find_element(By.NAME, "findings").send_keys("当日导医台人手不足，未及时引导")
            step.find_element(By.NAME, "action_taken").send_keys("向客户致歉，早高峰增派导医一名")
        _submit_and_wait(
            browser, wait, step.find_element(By.CSS_SELECTOR, f"button[value={status}]")
        )
    close = wait.until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=complaint-close]"))
    )
    for name, text in (
        ("findings", "当日导医台人手不足，未及时引导"),
        ("action_taken", "向客户致歉，早高峰增派导医一名"),
    ):
        field = close.find_element(By.NAME, name)
        if not field.get_attribute("value"):
            field.send_keys(text)
    _click(browser, close.find_element(By.CSS_SELECTOR, "input[name=client_accepted][value='yes']"))
    called = timezone.localtime() - datetime.timedelta(minutes=5)
    browser.execute_script(
        "arguments[0].value = arguments[1]",
        close.find_element(By.NAME, "client_called_at"),
        f"{called:%Y-%m-%dT%H:%M}",
    )
    _submit_and_wait(browser, wait, close.find_element(By.CSS_SELECTOR, "button[type=submit]"))

    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.CLOSED
    assert complaint.findings and complaint.action_taken and complaint.client_accepted is True
    assert complaint.client_called_at is not None
    status = browser.find_element(By.CSS_SELECTOR, "[data-testid=complaint-status]").text
    assert "结案" in status
    # The loop is on the client's timeline: the answers, the recovery call, the complaint.
    browser.get(browser.live_url + visit.client.get_absolute_url())
    timeline = browser.find_element(By.CSS_SELECTOR, "[data-testid=timeline]").text
    assert "投诉" in timeline and "服务补救" in timeline
    messages = [entry["message"] for entry in browser.get_log("browser")]
    assert [m for m in messages if "Content Security Policy" in m] == [], messages
