"""Eight clicks on one call button at the same moment (a double click on a slow network, tabs):
one call placed, the agent's phone rung once. Needs Postgres: the agent's row lock is what makes
the clicks take turns, and SQLite serialises writers on one file lock, so it proves nothing."""

import pytest
from django.urls import reverse

from tests.at_once import needs_postgres, post_at_once
from tests.clientmgmt.factories import ClientFactory
from tests.followup.factories import make_call
from tests.voice.test_dial import LINE, PHONE, agent
from voice.models import Call
from zhongdu import roles, vms

pytestmark = [pytest.mark.django_db(transaction=True), needs_postgres]


def test_clicks_at_the_same_moment_ring_once(settings):
    settings.VOICE_BACKEND = "memory"
    vms.clear()
    user, http = agent(roles.CLIENT_MANAGER)
    task = make_call(client=ClientFactory(phone=PHONE), assigned_to=user)
    answers = post_at_once(
        http, reverse("voice:dial"), {"worklist": "followup", "task": task.pk}, times=8
    )
    assert all(getattr(answer, "status_code", None) == 302 for answer in answers), answers
    assert Call.objects.count() == 1
    assert len(vms.placed) == 1 and vms.placed[0].agent == LINE
    vms.clear()
