"""The demo's morning on the hotline: its calls are played through the CTI events' own code, so
the wallboard, the figures and the callback tasks of a fresh `make run` have something to show."""

import pytest

from consult.models import Recall
from demo.hotline import MORNING, seed_calls, seed_hotline
from tests.clientmgmt.factories import ClientFactory
from tests.factories import UserFactory
from voice.models import Call, CtiEvent
from zhongdu import roles

pytestmark = pytest.mark.django_db


def test_the_morning_is_played_once_and_leaves_callbacks():
    for username in ("consultant", "clientmgr", "vipmgr"):  # the demo's agents
        UserFactory(username=username, roles=[roles.CONSULTANT])
    seed_hotline()
    people = [ClientFactory(phone=f"+861380000000{n}") for n in range(6)]
    assert seed_calls() == len(MORNING)
    assert Call.objects.count() == len(MORNING) and CtiEvent.objects.count() > len(MORNING)
    outcomes = sorted(Call.objects.values_list("outcome", flat=True))
    assert outcomes.count("answered") == 5 and outcomes.count("missed") == 3
    # Client 3 rang twice and was missed twice: one callback task; one per unknown caller.
    owed = Call.objects.exclude(outcome="answered")
    assert (
        Recall.objects.filter(kind="callback").count() == owed.values("number").distinct().count()
    )
    assert Recall.objects.get(client=people[3]).calls.count() == 2
    answered = Call.objects.filter(outcome="answered").select_related("agent")
    assert all(call.agent is not None and call.talk_seconds > 0 for call in answered)
    assert seed_calls() == 0  # played once
