"""In a real browser: the live client search finds a client by the full number typed into the
box, and neither the address bar nor any request's address carries it (issue 13); a name search
and a number one digit short of a full one are searched by GET."""

from urllib.parse import quote

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import NAVIGATING
from tests.clientmgmt.factories import ClientFactory
from tests.factories import TEST_PASSWORD, UserFactory
from zhongdu import roles
from zhongdu.private_query import FULL_NUMBER_DIGITS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _requests(browser) -> list[str]:
    """The addresses the page requested (htmx's included): a GET's carries its query."""
    return browser.execute_script(
        "return performance.getEntriesByType('resource').map((e) => e.name)"
    )


def _requested_addresses(browser) -> list[str]:
    return [*_requests(browser), browser.current_url]


def test_the_live_search_finds_a_full_number_without_putting_it_in_an_address(browser):
    roles.sync_group_permissions()
    UserFactory(username="frontdesk", roles=[roles.FRONT_DESK])
    ClientFactory(name="李娜", phone="13912345678")
    ClientFactory(name="王芳", phone="13800001111")

    browser.get(browser.live_url + "/accounts/login/")
    browser.find_element(By.NAME, "auth-username").send_keys("frontdesk")
    browser.find_element(By.NAME, "auth-password").send_keys(TEST_PASSWORD + Keys.ENTER)
    wait = WebDriverWait(browser, 30, ignored_exceptions=NAVIGATING)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=main-nav]")))

    browser.get(browser.live_url + "/clients/")
    search = browser.find_element(By.ID, "client-q")
    search.send_keys("139 1234 5678")
    wait.until(lambda d: "李娜" in d.find_element(By.CSS_SELECTOR, "#client-results").text)
    assert "王芳" not in browser.find_element(By.ID, "client-results").text
    wait.until(ec.url_contains("?t="))
    for address in _requested_addresses(browser):
        assert "12345678" not in address.replace("%20", "").replace("+", ""), address

    # Enter submits the form: the page comes back with the results, by token.
    browser.find_element(By.ID, "client-q").send_keys(Keys.ENTER)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=client-results]")))
    assert "?t=" in browser.current_url and "12345678" not in browser.current_url
    assert "李娜" in browser.find_element(By.ID, "client-results").text

    # A name stays a readable GET address.
    search = browser.find_element(By.ID, "client-q")
    search.clear()
    search.send_keys("王芳")
    wait.until(lambda d: "王芳" in d.find_element(By.CSS_SELECTOR, "#client-results").text)
    wait.until(ec.url_contains("?q="))

    # The script's threshold is the server's (read from the page): one digit short of a full
    # number is still searched by GET, a full number posts and its address is a token.
    digits = "34567890123456789012"
    short, full = digits[: FULL_NUMBER_DIGITS - 1], digits[:FULL_NUMBER_DIGITS]
    search = browser.find_element(By.ID, "client-q")
    search.clear()
    search.send_keys(short)
    wait.until(lambda d: any(f"q={short}" in address for address in _requests(d)))
    search = browser.find_element(By.ID, "client-q")
    search.clear()
    search.send_keys(full)
    wait.until(ec.url_contains("?t="))
    assert not [address for address in _requested_addresses(browser) if full in address]

    # Full-width digits (a Chinese input method) are digits too, as on the server.
    search = browser.find_element(By.ID, "client-q")
    search.clear()
    search.send_keys("王芳")
    wait.until(ec.url_contains("?q="))
    wide = "".join(chr(ord(digit) + 0xFEE0) for digit in full)  # ３４５… (U+FF10 onwards)
    search = browser.find_element(By.ID, "client-q")
    search.clear()
    search.send_keys(wide)
    wait.until(ec.url_contains("?t="))
    encoded = quote(wide)
    assert not [a for a in _requested_addresses(browser) if wide in a or encoded in a]
    messages = [entry["message"] for entry in browser.get_log("browser")]
    assert [m for m in messages if "Content Security Policy" in m] == [], messages
