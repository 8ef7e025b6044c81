"""A consultant works a voicemail's callback task in the browser: the task's page leads to the
call's page, the reason is asked, and the player then plays the voicemail the application
decrypts and streams (Chromium loads it and knows its length), with an audit row."""

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from consult.models import Recall
from tests.browser import NAVIGATING
from tests.factories import TEST_PASSWORD, UserFactory
from tests.fake_pbx import make_wav
from voice.models import Call, Recording
from zhongdu import private_files, roles
from zhongdu.models import AuditEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What the page's player says once it has the audio: its length in seconds, or 0 before.
PLAYER_DURATION = (
    "const p = document.querySelector('[data-testid=player]');"
    "return p && p.readyState >= 1 && isFinite(p.duration) ? p.duration : 0;"
)


def test_a_voicemail_is_played_in_the_browser_after_a_reason(browser, settings, tmp_path):
    settings.PRIVATE_FILES_ROOT = tmp_path / "private"
    roles.sync_group_permissions()
    UserFactory(username="agent_one", roles=[roles.CONSULTANT])
    recall = Recall.objects.create(
        kind=Recall.Kind.CALLBACK,
        phone="+8613812345678",
        due_at=timezone.now(),
        next_attempt_on=timezone.localdate(),
    )
    call = Call.objects.create(
        external_id="vm-browser",
        number="+8613812345678",
        ringing_at=timezone.now(),
        outcome=Call.Outcome.VOICEMAIL,
        voicemail_seconds=2,
        callback=recall,
    )
    wav = make_wav(seconds=2.0)
    recording = Recording.objects.create(
        call=call,
        kind=Recording.Kind.VOICEMAIL,
        source_url="http://pbx.invalid/recordings/vm.wav",
        status=Recording.Status.KEPT,
        file=private_files.save("recordings", wav),
        size=len(wav),
        content_type="audio/wav",
        fetched_at=timezone.now(),
    )
    browser.get(browser.live_url + "/accounts/login/")
    browser.find_element(By.NAME, "auth-username").send_keys("agent_one")
    browser.find_element(By.NAME, "auth-password").send_keys(TEST_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form[action='/accounts/login/'] button").click()
    WebDriverWait(browser, 30, ignored_exceptions=NAVIGATING).until(
        lambda d: "/accounts/login/" not in d.current_url
    )
    browser.get(browser.live_url + recall.get_absolute_url())
    browser.find_element(By.CSS_SELECTOR, "[data-testid=record-call-link]").click()
    form = WebDriverWait(browser, 30, ignored_exceptions=NAVIGATING).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=listen-form]")
    )
    form.find_element(By.NAME, "reason").send_keys("核对客户留言内容")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    duration = WebDriverWait(browser, 30, ignored_exceptions=NAVIGATING).until(
        lambda d: d.execute_script(PLAYER_DURATION)
    )
    assert abs(duration - 2.0) < 0.1
    source = browser.find_element(By.CSS_SELECTOR, "[data-testid=player]").get_attribute("src")
    assert "/voice/recordings/" in source and "pbx.invalid" not in browser.page_source
    event = AuditEvent.objects.get(object_type="voice.recording", object_id=str(recording.pk))
    assert event.reason == "核对客户留言内容"
