"""On a return-visit call, each answer chosen is saved at once (htmx, no reload): the status
beside the question says so, the call's survey response holds it before the call is saved, and
saving the call keeps every answer."""

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from followup.models import FollowUpCall
from surveys.models import Dimension
from tests.factories import TEST_PASSWORD, UserFactory
from tests.followup.factories import make_call
from zhongdu import roles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(driver, username):
    driver.get(driver.live_url + "/accounts/login/")
    driver.find_element(By.NAME, "auth-username").send_keys(username)
    driver.find_element(By.NAME, "auth-password").send_keys(TEST_PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form[action='/accounts/login/'] button").click()
    WebDriverWait(driver, 30).until(lambda d: "/accounts/login/" not in d.current_url)


def _into_view(driver, element):
    # Instantly: Bootstrap makes scrolling smooth, and a click during the glide misses.
    driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element
    )


def _choose(driver, name, value):
    radio = driver.find_element(By.CSS_SELECTOR, f"input[name='{name}'][value='{value}']")
    _into_view(driver, radio)
    radio.click()


def _saved(driver, name):
    WebDriverWait(driver, 10).until(
        lambda d: d.find_element(By.ID, f"saved-{name}").text.strip() != ""
    )


def _scores(call):
    call.refresh_from_db()
    if call.survey_response is None:
        return {}
    return dict(call.survey_response.answers.values_list("dimension", "score"))


def test_answers_are_saved_as_they_are_chosen_and_the_record_keeps_them(browser):
    roles.sync_group_permissions()
    handler = UserFactory(username="cm_browser", roles=[roles.CLIENT_MANAGER])
    call = make_call(assigned_to=handler)
    _sign_in(browser, "cm_browser")
    browser.get(browser.live_url + call.get_absolute_url())
    _choose(browser, "outcome", "reached")
    _choose(browser, "score_doctor", "4")
    _saved(browser, "score_doctor")
    assert _scores(call) == {Dimension.DOCTOR: 4}  # before the call is saved
    _choose(browser, "score_nursing", "5")
    _saved(browser, "score_nursing")
    assert _scores(call) == {Dimension.DOCTOR: 4, Dimension.NURSING: 5}
    # Still the same page: nothing reloaded it.
    assert browser.find_element(
        By.CSS_SELECTOR, "input[name='score_doctor'][value='4']"
    ).is_selected()
    button = browser.find_element(By.CSS_SELECTOR, "[data-testid=call-record] button[type=submit]")
    _into_view(browser, button)
    button.click()
    workbench = reverse("followup:call_list")
    WebDriverWait(browser, 10).until(lambda d: d.current_url.endswith(workbench))
    call.refresh_from_db()
    assert call.status == FollowUpCall.Status.DONE
    assert _scores(call) == {Dimension.DOCTOR: 4, Dimension.NURSING: 5}
