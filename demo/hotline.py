"""The demo hotline: the queues and the agents the scripted PBX (scripts/fake_pbx.py) rings, so
that `python scripts/fake_pbx.py --play-day --extensions 8001,8002,8003` finds someone."""

from django.contrib.auth import get_user_model

from voice.models import Agent, CallQueue

QUEUES = [("hotline", "健康专线"), ("vip", "VIP 专线")]
# (username, extension, queue codes): the consultants answer the hotline, the VIP manager both.
AGENTS = [
    ("consultant", "8001", ["hotline"]),
    ("clientmgr", "8002", ["hotline"]),
    ("vipmgr", "8003", ["hotline", "vip"]),
]


def seed_hotline() -> int:
    """The demo queues and agents (idempotent). Returns how many agents were created."""
    queues = {
        code: CallQueue.objects.get_or_create(code=code, defaults={"name": name})[0]
        for code, name in QUEUES
    }
    created = 0
    for username, extension, codes in AGENTS:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            continue
        agent, made = Agent.objects.get_or_create(user=user, defaults={"extension": extension})
        if made:
            agent.queues.set([queues[code] for code in codes])
            created += 1
    return created
