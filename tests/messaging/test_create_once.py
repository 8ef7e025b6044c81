"""A campaign confirmed twice (a double click on a slow network, a resubmitted tab) is one
campaign: nobody receives its message twice."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from messaging.models import Campaign, SmsTemplate

pytestmark = pytest.mark.django_db

NEW = reverse("messaging:campaign_create")


def test_a_double_click_on_confirm_makes_one_campaign(
    client_manager_client, django_capture_on_commit_callbacks
):
    template = SmsTemplate.objects.create(
        code="tip", purpose="health_tip", kind="marketing", body="{name}您好，冬季注意保湿。"
    )
    page = client_manager_client.get(NEW)
    key = page.context["form"].initial["key"]
    assert f'name="key" value="{key}"' in page.content.decode()
    send_at = (timezone.localtime() + datetime.timedelta(days=1)).strftime("%Y-%m-%dT10:00")
    form = {"name": "冬季护肤", "template": template.pk, "send_at": send_at, "key": key}
    counted = client_manager_client.post(NEW, form)
    assert f'name="key" value="{key}"' in counted.content.decode()  # the key goes on
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answers = [client_manager_client.post(NEW, form | {"confirm": "yes"}) for _c in (1, 2)]
    campaign = Campaign.objects.get()
    assert [answer["Location"] for answer in answers] == [campaign.get_absolute_url()] * 2
    assert len(callbacks) == 1
