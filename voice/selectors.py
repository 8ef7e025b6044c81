"""Reads of the hotline: the client page's timeline source (calls)."""

from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from clientmgmt.registry import TimelineEntry, timeline_columns, user_name

from .models import Call


def call_rows(client):
    """The client's calls, for the client page's timeline and the health archive."""
    return Call.objects.filter(client=client).values(
        **timeline_columns(
            kind="hotline",
            at=Coalesce("ringing_at", "created_at"),
            status="outcome",
            first="direction",
            second=Coalesce(F("queue__name"), F("queue_code"), Value("")),
            actor=user_name("agent__user"),
        )
    )


def call_entry(row) -> TimelineEntry:
    outcome, direction = row["t_status"], row["t_first"]
    directions, outcomes = dict(Call.Direction.choices), dict(Call.Outcome.choices)
    return TimelineEntry(
        at=row["t_at"],
        kind="hotline",
        title=_("Call (%(direction)s): %(outcome)s")
        % {
            "direction": directions.get(direction, direction),
            "outcome": outcomes.get(outcome, outcome),
        },
        detail=row["t_second"],
        actor=row["t_actor"],
    )
