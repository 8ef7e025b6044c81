"""Headless Chromium from Debian (chromium, chromium-driver) driven by Selenium against
pytest-django's live server. A test that fails leaves a screenshot in var/test-artifacts/."""

import shutil
from pathlib import Path

import pytest
from django.conf import settings
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# What a wait sees while the page it polls is being replaced (a click that navigates): an element
# of the old document, stale, or Chromium's "Node with given id does not belong to the document",
# which it reports as a bare WebDriverException. A wait tries again; a real failure still ends in
# its timeout.
NAVIGATING = (StaleElementReferenceException, WebDriverException)
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = Path(settings.BASE_DIR) / "var" / "test-artifacts"

browser_available = Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()
requires_browser = pytest.mark.skipif(
    not browser_available, reason="needs Debian's chromium and chromium-driver (CI installs them)"
)


# A phone (the portal's pages are laid out for one first) and WeChat's own browser on it.
PHONE_SIZE = {"width": 390, "height": 844}
WECHAT_USER_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI Language/zh_CN"
)


def make_driver(*, language="zh-CN", width=1366, height=768, user_agent=None):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        # This machine has no outside network: without these Chromium keeps trying to reach it.
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--window-size={width},{height}",
        f"--lang={language}",
    ):
        options.add_argument(flag)
    if user_agent:
        options.add_argument(f"--user-agent={user_agent}")
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    return driver


def save_screenshot(driver, name):
    """The screen, the page's HTML and the browser's console, to see why a test failed."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    (ARTIFACTS / f"{name}.html").write_text(driver.page_source)
    console = "\n".join(entry["message"] for entry in driver.get_log("browser"))
    (ARTIFACTS / f"{name}.console.txt").write_text(console)
    return path


def page_gone(old):
    """A wait condition: the page that held `old` has been replaced. Its element is stale, or
    Chromium answers that the node no longer belongs to the document (an "unhandled inspector
    error" that Selenium raises as a plain WebDriverException while the new page loads)."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support import expected_conditions as ec

    def check(driver):
        try:
            return ec.staleness_of(old)(driver)
        except WebDriverException:
            return True

    return check
