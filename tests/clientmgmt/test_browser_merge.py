"""A client manager merges two records of one person from where the duplicate shows up: editing a
record, the duplicate warning offers "merge with…"; the side-by-side view asks which date of birth
stays; the merge shows its result, and the undo makes both records active again. In Chinese, as
the desk reads it, and without a record number to type or read."""

import datetime

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from clientmgmt.models import Client, ClientMerge
from tests.browser import NAVIGATING, page_gone
from tests.clientmgmt.factories import ClientFactory
from tests.factories import TEST_PASSWORD, UserFactory
from zhongdu import roles

SCROLL = "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _click(driver, wait, element, *, confirm=False):
    """Click and wait for the next page; `confirm`: accept the page's "are you sure?"."""
    old = driver.find_element(By.TAG_NAME, "html")
    driver.execute_script(SCROLL, element)
    element.click()
    if confirm:
        wait.until(ec.alert_is_present()).accept()
    wait.until(page_gone(old))
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")


def test_a_duplicate_found_while_editing_is_merged_with_a_chosen_value_and_undone(browser):
    roles.sync_group_permissions()
    UserFactory(username="clientmgr", roles=[roles.CLIENT_MANAGER])
    kept = ClientFactory(name="王芳", phone="13912345678", date_of_birth=datetime.date(1990, 3, 7))
    edited = ClientFactory(
        name="王芳", phone="13700000002", date_of_birth=datetime.date(1991, 4, 8)
    )
    wait = WebDriverWait(browser, 20, ignored_exceptions=NAVIGATING)

    browser.get(browser.live_url + "/accounts/login/")
    browser.find_element(By.NAME, "auth-username").send_keys("clientmgr")
    browser.find_element(By.NAME, "auth-password").send_keys(TEST_PASSWORD + Keys.ENTER)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=main-nav]")))

    # Editing one record with the other's phone: the warning offers to merge the two.
    browser.get(browser.live_url + reverse("clientmgmt:client_edit", args=[edited.pk]))
    browser.find_element(By.NAME, "phone").send_keys("13912345678")
    _click(browser, wait, browser.find_element(By.CSS_SELECTOR, "main form [type=submit]"))
    offer = browser.find_element(By.CSS_SELECTOR, "[data-testid=merge-offer]")
    assert "137****0002" in offer.text  # on the row of the record found: merge with this one
    _click(browser, wait, offer)

    # Side by side: the record found stays; its date of birth is replaced by the edited one's.
    sides = browser.find_elements(By.CSS_SELECTOR, "[data-testid=merge-side]")
    assert [s.get_attribute("data-client") for s in sides] == [str(kept.pk), str(edited.pk)]
    assert "1990-03-07" in sides[0].text and "1991-04-08" in sides[1].text
    choice = browser.find_element(By.ID, "keep-date_of_birth-merged")
    browser.execute_script(SCROLL, choice)
    choice.click()
    merge_button = browser.find_element(By.CSS_SELECTOR, "[data-testid=merge-differences] ~ button")
    _click(browser, wait, merge_button, confirm=True)

    # The result, in staff's words: the two names, masked numbers, no record number.
    merge = ClientMerge.objects.get()
    assert browser.current_url.endswith(merge.get_absolute_url())
    main = browser.find_element(By.TAG_NAME, "main").text
    assert "王芳 已合并到 王芳" in main and "139****5678" in main and "#" not in main
    kept.refresh_from_db()
    assert kept.date_of_birth == datetime.date(1991, 4, 8)
    assert Client.objects.get(pk=edited.pk).status == Client.Status.MERGED

    # The undo: both records are active again, the date of birth is the kept record's own.
    _click(
        browser,
        wait,
        browser.find_element(By.CSS_SELECTOR, "[data-testid=merge-undo]"),
        confirm=True,
    )
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=merge-undone]").is_displayed()
    kept.refresh_from_db()
    assert kept.date_of_birth == datetime.date(1990, 3, 7)
    assert Client.objects.filter(status=Client.Status.ACTIVE).count() == 2
    messages = [entry["message"] for entry in browser.get_log("browser")]
    assert [m for m in messages if "Content Security Policy" in m] == [], messages
