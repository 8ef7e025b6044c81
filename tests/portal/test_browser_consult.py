"""An online consultation on a phone (and in WeChat's browser): the person asks with a photo,
a consultant answers from the desk, the person reads the answer."""

import io

import pytest
from django.urls import reverse
from PIL import Image
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from portal.models import ConsultThread
from zhongdu import roles

from .conftest import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_question_with_a_photo_is_answered_by_the_desk(
    phone_browser, patient, client_for, settings, tmp_path
):
    settings.PRIVATE_FILES_ROOT = str(tmp_path / "private")
    photo = tmp_path / "arm.jpg"
    out = io.BytesIO()
    Image.new("RGB", (120, 90), "pink").save(out, format="JPEG")
    photo.write_bytes(out.getvalue())
    driver = phone_browser
    browser_sign_in(driver, next_path="/my/consult/")
    driver.find_element(By.CSS_SELECTOR, "[data-testid=consult-ask]").click()
    assert driver.find_element(By.CSS_SELECTOR, "[data-testid=consult-disclaimer]")
    driver.find_element(By.NAME, "text").send_keys("手臂上有一块红斑")
    driver.find_element(By.CSS_SELECTOR, "[data-testid=consult-photos]").send_keys(str(photo))
    driver.find_element(By.CSS_SELECTOR, "[data-testid=consult-send]").click()
    wait = WebDriverWait(driver, 10)
    image = wait.until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=consult-photo]"))
    )
    wait.until(lambda d: d.execute_script("return arguments[0].naturalWidth", image) == 120)
    width = driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= driver.execute_script("return window.innerWidth")

    # A consultant answers from the desk's inbox.
    desk = client_for(roles.CONSULTANT)
    inbox = desk.get(reverse("online:inbox")).content.decode()
    thread = ConsultThread.objects.get()
    assert thread.title in inbox
    answered = desk.post(
        reverse("online:answer", args=[thread.pk]), {"text": "建议来院皮肤科面诊，可在线预约。"}
    )
    assert answered.status_code == 302

    driver.refresh()
    answer = wait.until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=consult-answer]"))
    )
    assert "建议来院皮肤科面诊" in answer.text
