"""A record made on a hotline call (an enquiry on the call screen, a complaint from a voicemail)
tells the app that owns calls, without the layers below knowing it.

The pop and the callback tasks open the call screen or the complaint form with `?call=<id>`, an
opaque reference that the page keeps in its address while the form is filled in; once the record
is made, the page sends `made_on_call`, and the voice app links the call to it (and gives an
enquiry its duration from the call).

A call placed from a worklist (the call button, voice.outbound) sends its agent to the task's
outcome form with the same `?call=<id>`: the form asks `call_facts` what the call's receipt said
(answered or not, the talk time) and fills them in, so nothing is typed again."""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.dispatch import Signal
from django.utils.translation import gettext as _

from .converters import row_id

# Sent with sender=the record's model, record=the new record, call=the reference, by=the user.
made_on_call = Signal()
# Asked before a page draws its form: will what it records be linked to the call? Sent with
# call=the reference, by=the user, phone and client_id (the caller the page is about); a
# receiver answers True when it will (the voice app: voice.services.call_may_link).
call_asked = Signal()

PARAMETER = "call"


def call_reference(request) -> str:
    """The call a page was opened from (`?call=`), or "" when there is none or it is not one."""
    value = request.GET.get(PARAMETER, "")
    return value if row_id(value) is not None else ""


def will_link(request, *, phone: str = "", client_id=None) -> bool:
    """Whether the page `request` opened from a call will link what it records to the call
    (then an enquiry's duration is the call's, not typed)."""
    reference = call_reference(request)
    if not reference:
        return False
    answers = call_asked.send(
        None, call=reference, by=request.user, phone=phone, client_id=client_id
    )
    return any(answer for _receiver, answer in answers)


def tell(request, record) -> None:
    """After `record` was made on the page `request` opened: the call it came from, if any."""
    reference = call_reference(request)
    if reference:
        made_on_call.send(type(record), record=record, call=reference, by=request.user)


@dataclass(frozen=True)
class CallFacts:
    """What a call placed for a task said, for its outcome form. `ended`: the receipt came
    (before it nothing is known); `answered`: the client picked up; `attempt_recorded`: the call
    went unanswered and was counted as an attempt on the task already (nothing to record)."""

    ended: bool
    answered: bool
    talk_seconds: int | None
    answered_at: datetime.datetime | None
    outcome_label: str
    attempt_recorded: bool = False

    @property
    def talk_clock(self) -> str:
        """The talk time as minutes:seconds (3:05)."""
        minutes, seconds = divmod(int(self.talk_seconds or 0), 60)
        return f"{minutes}:{seconds:02d}"

    @property
    def summary(self) -> str:
        """What the outcome form says of the call, above the fields it filled in."""
        if not self.ended:
            return _("The call has not ended yet: reload this page once it has.")
        if self.answered:
            return _("From the call: answered, %(talk)s talking. Record what was said.") % {
                "talk": self.talk_clock
            }
        if self.attempt_recorded:
            return _(
                "From the call: not answered (%(outcome)s). It was counted as an attempt"
                " already: nothing to record."
            ) % {"outcome": self.outcome_label}
        return _("From the call: not answered (%(outcome)s).") % {"outcome": self.outcome_label}

    @property
    def prefill(self) -> bool:
        """Whether the form should be filled in from the call: it ended, and was not counted
        already."""
        return self.ended and not self.attempt_recorded


_facts_sources: list[Callable] = []


def register_call_facts(source: Callable) -> None:
    """`source(reference, *, by, worklist, task_id) -> CallFacts | None`: the voice app."""
    if source not in _facts_sources:
        _facts_sources.append(source)


def call_facts(request, *, worklist: str, task_id) -> CallFacts | None:
    """What the call the page was opened from (`?call=`) said, when it is one this user placed
    for this very task; None otherwise (no call, someone else's, another task's)."""
    reference = call_reference(request)
    if not reference:
        return None
    for source in _facts_sources:
        facts = source(reference, by=request.user, worklist=worklist, task_id=task_id)
        if facts is not None:
            return facts
    return None
