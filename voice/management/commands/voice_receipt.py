"""Development: play the voice service's receipt for a call the console backend printed.

    python manage.py voice_receipt call:12 --outcome answered --talk 95
    python manage.py voice_receipt msg:40 --keys 1

The console backend (VOICE_BACKEND=console) places nothing, so no receipt ever comes; this builds
the element the provider would push (VoiceReport) and applies it as the receipt address does
(voice.receipts.receipts_take: once per call id, then the handler of the reference)."""

import datetime
import uuid

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from voice import receipts

# The status code the provider writes for each outcome, by the kind of call.
SINGLE = {
    "answered": "200000",
    "busy": "200002",
    "no_answer": "200003",
    "invalid_number": "200004",
    "unreachable": "200005",
    "powered_off": "200010",
}
DOUBLE = {
    "answered": "200100",
    "busy": "200112",
    "no_answer": "200113",
    "unreachable": "200111",
    "powered_off": "200010",
    "invalid_number": "200116",
    "agent_unanswered": "200003",
}
CHINA = datetime.timezone(datetime.timedelta(hours=8))


class Command(BaseCommand):
    help = "Play the voice service's receipt for a call placed in development."

    def add_arguments(self, parser):
        parser.add_argument("reference", help='the call\'s reference: "call:<id>" or "msg:<id>"')
        parser.add_argument("--outcome", default="answered", choices=sorted(DOUBLE))
        parser.add_argument("--keys", default="", help="keys pressed on a keypad call, e.g. 1")
        parser.add_argument("--talk", type=int, default=60, help="talk time in seconds")

    def handle(self, *args, reference, outcome, keys, talk, **options):
        prefix = reference.partition(":")[0]
        if prefix not in receipts.PREFIXES:
            raise CommandError('The reference is "call:<id>" or "msg:<id>".')
        codes = DOUBLE if prefix == "call" else SINGLE
        if outcome not in codes:
            raise CommandError(f"A {prefix} reference has no outcome {outcome!r}.")
        end = timezone.now().astimezone(CHINA)
        start = end - datetime.timedelta(seconds=talk)
        answered = outcome == "answered"

        def at(moment):
            return moment.strftime("%Y-%m-%d %H:%M:%S") if answered else ""

        element = {
            "call_id": _call_id(prefix, reference.partition(":")[2]),
            "out_id": reference,
            "status_code": codes[outcome],
            "start_time": at(start),
            "end_time": end.strftime("%Y-%m-%d %H:%M:%S"),
            "duration": str(talk if answered else 0),
            "b_start_time": at(start),
            "b_duration": talk if answered else 0,
            "dtmf": keys if answered else "",
        }
        applied = receipts.receipts_take([element])
        self.stdout.write(f"{reference}: {outcome} ({'applied' if applied else 'already applied'})")


def _call_id(prefix: str, pk: str) -> str:
    """The call id the console backend gave the call (a receipt names its own call)."""
    from messaging.models import OutboxMessage
    from voice.models import Call

    if pk.isdigit():
        if prefix == "call":
            found = Call.objects.filter(pk=pk).values_list("provider_call_id", flat=True).first()
        else:
            found = (
                OutboxMessage.objects.filter(pk=pk).values_list("provider_id", flat=True).first()
            )
        if found:
            return found
    return f"dev-{uuid.uuid4().hex[:12]}"
