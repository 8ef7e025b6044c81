"""The demo hotline: the queues and the agents the scripted PBX (scripts/fake_pbx.py) rings, so
that `python scripts/fake_pbx.py --play-day --extensions 8001,8002,8003` finds someone."""

from django.contrib.auth import get_user_model

from voice.models import Agent, CallQueue

QUEUES = [("hotline", "健康专线"), ("vip", "VIP 专线")]
# (username, extension, queue codes, own line): the consultants answer the hotline, the VIP
# manager both; the line (a made-up mobile) is what their call buttons ring first.
AGENTS = [
    ("consultant", "8001", ["hotline"], "+8613700008001"),
    ("clientmgr", "8002", ["hotline"], "+8613700008002"),
    ("vipmgr", "8003", ["hotline", "vip"], "+8613700008003"),
]


def seed_hotline() -> int:
    """The demo queues and agents (idempotent). Returns how many agents were created."""
    queues = {
        code: CallQueue.objects.get_or_create(code=code, defaults={"name": name})[0]
        for code, name in QUEUES
    }
    created = 0
    for username, extension, codes, line in AGENTS:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            continue
        # The consultant and the client manager are on the phones (callback tasks go to them).
        presence = Agent.Presence.AWAY if username == "vipmgr" else Agent.Presence.AVAILABLE
        agent, made = Agent.objects.get_or_create(
            user=user, defaults={"extension": extension, "presence": presence, "line": line}
        )
        if made:
            agent.queues.set([queues[code] for code in codes])
            created += 1
        elif not agent.line:  # seeded before agents had lines
            Agent.objects.filter(pk=agent.pk).update(line=line)
    return created


# The demo's morning on the hotline: (minutes ago it rang, what happened, the caller's number
# (a demo client's where it is one), the extension that answered, seconds of talk).
MORNING = [
    (170, "answered", 0, "8001", 240),
    (150, "answered", 1, "8002", 420),
    (140, "abandoned_queue", None, "", 0),
    (120, "answered", 2, "8001", 180),
    (95, "missed", 3, "", 0),
    (90, "abandoned_ivr", None, "", 0),
    (80, "answered", 4, "8003", 600),
    (60, "missed", None, "", 0),
    (55, "abandoned_queue", None, "", 0),
    (35, "answered", 5, "8002", 300),
    (20, "missed", 3, "", 0),
]
UNKNOWN_CALLERS = ["+8613700001234", "+8613900005678", "+8615800009012", "+8618600003456"]


def seed_calls(now=None) -> int:
    """The morning's calls (MORNING), played as the PBX would send their CTI events (signed with
    a secret of the demo's own), so the wallboard, the figures and the callback tasks have
    something to show. Idempotent: a morning already played is not played again."""
    import datetime
    import json
    import secrets as random_secrets

    from django.utils import timezone

    from clientmgmt.models import Client
    from voice.models import Call
    from voice.services import cti_event_take, signature

    if Call.objects.filter(external_id__startswith="demo-").exists():
        return 0
    now = now or timezone.now()
    phones = list(
        Client.objects.exclude(phone="").order_by("pk").values_list("phone", flat=True)[:6]
    )
    secret = random_secrets.token_hex(16)
    unknown = iter(UNKNOWN_CALLERS * 3)
    played = 0
    for n, (ago, outcome, caller, extension, talk) in enumerate(MORNING):
        number = phones[caller] if caller is not None and caller < len(phones) else next(unknown)
        call_id = f"demo-{now:%Y%m%d%H%M}-{n}"
        rang = now - datetime.timedelta(minutes=ago)
        queue = "vip" if extension == "8003" else "hotline"
        steps = [
            (
                0,
                "ringing",
                {
                    "direction": "inbound",
                    "caller": number,
                    "called": "4000371000",
                    "queue": queue,
                    "ivr_path": "1",
                    "recording_notice": True,
                },
            ),
        ]
        if outcome == "answered":
            steps += [(12 + 3 * n, "answered", {"extension": extension}), (talk, "ended", {})]
        elif outcome == "abandoned_ivr":
            steps += [(15, "ended", {"abandoned_in": "ivr"})]
        elif outcome == "abandoned_queue":
            steps += [(70, "ended", {"abandoned_in": "queue"})]
        else:
            steps += [(45, "ended", {})]
        moment = rang
        for step, (delay, kind, fields) in enumerate(steps):
            moment += datetime.timedelta(seconds=delay)
            event = {
                "id": f"{call_id}-{step}",
                "type": kind,
                "timestamp": moment.isoformat(),
                "call_id": call_id,
                **fields,
            }
            body = json.dumps(event).encode()
            cti_event_take(body, signature(body, secret), now=moment, secret=secret)
        played += 1
    return played
