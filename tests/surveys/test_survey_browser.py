"""A patient completes the satisfaction survey on a phone (390 x 844) by tapping: every score is a
button big enough for a thumb, nothing scrolls sideways (at 390 px, nor at 360 px), a missed
question is pointed out with the other answers kept, and the answers reach the database."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from surveys.models import SurveyQuestion, SurveyResponse
from tests.browser import NAVIGATING, page_gone
from tests.clientmgmt.factories import ClientFactory
from tests.surveys.factories import finished_visit, invitation, satisfaction_survey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 390, 844
NO_SIDEWAYS_SCROLL = "return document.documentElement.scrollWidth <= window.innerWidth + 1"


def _emulate(driver, width, height=HEIGHT):
    # Chromium keeps even a headless window at least 500 px wide: emulate the phone's viewport
    # instead (mobile, so the page's meta viewport applies), as tests/zhongdu/test_browser_phone.
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 3, "mobile": True},
    )


@pytest.fixture
def phone(request, live_server):
    """Headless Chromium with a phone's viewport; screenshots itself when the test fails."""
    from tests.browser import browser_available, make_driver, save_screenshot

    if not browser_available:
        pytest.skip("needs Debian's chromium and chromium-driver (CI installs them)")
    driver = make_driver(width=WIDTH, height=HEIGHT)
    _emulate(driver, WIDTH)
    driver.live_url = live_server.url
    yield driver
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        save_screenshot(driver, request.node.name)
    driver.quit()


def _tap(driver, element):
    # Instantly: Bootstrap makes scrolling smooth, and a tap during the glide misses.
    driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element
    )
    element.click()


def _label(driver, question, value):
    return driver.find_element(By.CSS_SELECTOR, f"label[for='id_q{question.pk}_{value}']")


def test_a_patient_completes_the_survey_on_a_phone(phone):
    satisfaction_survey()
    made = invitation(visit=finished_visit(client=ClientFactory(name="王小红")))
    questions = list(made.template.questions.all())
    scales = [q for q in questions if q.type == SurveyQuestion.Type.SCALE]
    recommend = next(q for q in questions if q.type == SurveyQuestion.Type.RECOMMEND)
    comment = next(q for q in questions if q.type == SurveyQuestion.Type.TEXT)
    wait = WebDriverWait(phone, 30, ignored_exceptions=NAVIGATING)

    phone.get(phone.live_url + made.get_absolute_url())
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=survey-form]")))
    assert phone.execute_script("return window.innerWidth") == WIDTH
    assert phone.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-hans"
    assert "小红" in phone.find_element(By.CSS_SELECTOR, "[data-testid=survey-greeting]").text
    assert phone.execute_script(NO_SIDEWAYS_SCROLL)

    # Every score is a target at least 44 px each way, inside the screen.
    for label in phone.find_elements(By.CSS_SELECTOR, ".survey-scale label.btn"):
        size, place = label.size, label.location
        assert size["height"] >= 44 and size["width"] >= 44, size
        assert place["x"] >= 0 and place["x"] + size["width"] <= WIDTH

    # Tap the scores, but forget the overall one: the page says which, and keeps the others.
    for question in scales[:-1]:
        _tap(phone, _label(phone, question, 3))  # the fourth button: 4
    _tap(phone, _label(phone, recommend, 9))
    phone.find_element(By.ID, f"id_q{comment.pk}").send_keys("导医很热情")
    old_page = phone.find_element(By.TAG_NAME, "html")
    _tap(phone, phone.find_element(By.CSS_SELECTOR, "[data-testid=survey-submit]"))
    wait.until(page_gone(old_page))
    errors = wait.until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=survey-errors]"))
    )
    assert scales[-1].text in errors.text
    assert phone.find_element(By.ID, f"id_q{scales[0].pk}_3").is_selected()
    assert phone.find_element(By.ID, f"id_q{recommend.pk}_9").is_selected()
    assert phone.find_element(By.ID, f"id_q{comment.pk}").get_attribute("value") == "导医很热情"
    assert phone.execute_script(NO_SIDEWAYS_SCROLL)

    # The missing answer, and send.
    _tap(phone, _label(phone, scales[-1], 4))
    assert phone.find_element(By.ID, f"id_q{scales[-1].pk}_4").is_selected()
    old_page = phone.find_element(By.TAG_NAME, "html")
    _tap(phone, phone.find_element(By.CSS_SELECTOR, "[data-testid=survey-submit]"))
    wait.until(page_gone(old_page))
    wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "[data-testid=survey-thanks]")))
    assert phone.execute_script(NO_SIDEWAYS_SCROLL)

    response = SurveyResponse.objects.get(invitation=made)
    scores = dict(response.answers.filter(score__isnull=False).values_list("dimension", "score"))
    assert scores == {q.dimension: 4 for q in scales[:-1]} | {scales[-1].dimension: 5} | {
        recommend.dimension: 9
    }
    assert response.comment == "导医很热情" and not response.needs_recovery
    messages = [entry["message"] for entry in phone.get_log("browser")]
    assert [m for m in messages if "Content Security Policy" in m] == [], messages


def test_the_survey_fits_a_360_px_phone_in_both_languages(phone):
    satisfaction_survey()
    made = invitation()
    _emulate(phone, 360, 740)
    phone.get(phone.live_url + made.get_absolute_url())
    wait = WebDriverWait(phone, 30, ignored_exceptions=NAVIGATING)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=survey-form]")))
    assert phone.execute_script("return window.innerWidth") == 360
    assert phone.execute_script(NO_SIDEWAYS_SCROLL)

    # The language switcher works for a visitor who is not signed in.
    old_page = phone.find_element(By.TAG_NAME, "html")
    _tap(phone, phone.find_element(By.CSS_SELECTOR, "[data-testid=language-switcher] [value=en]"))
    wait.until(page_gone(old_page))
    wait.until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
    assert "Satisfaction survey" in phone.find_element(By.TAG_NAME, "h1").text
    assert phone.execute_script(NO_SIDEWAYS_SCROLL)
