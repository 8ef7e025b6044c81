"""Registries through which the other apps plug into the client record without clientmgmt
importing them (a lower layer never imports a higher one):

- merge relations: every row pointing at a client that must follow the person when two records
  are merged: `register_merge_relation(Booking, "client")`;
- timeline providers: functions that return a client's entries for the client page:
  `register_timeline(provider)`, where provider(client, limit) -> list[TimelineEntry].

Apps register in their AppConfig.ready().
"""

from dataclasses import dataclass, field
from datetime import datetime

_merge_relations: list[tuple[type, str]] = []
_timeline_providers: list = []


def register_merge_relation(model, field_name: str = "client") -> None:
    if (model, field_name) not in _merge_relations:
        _merge_relations.append((model, field_name))


def merge_relations() -> list[tuple[type, str]]:
    return list(_merge_relations)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # a short machine name, used as a CSS hook: "created", "booking", ...
    title: str
    detail: str = ""
    actor: str = ""
    url: str = ""
    extra: dict = field(default_factory=dict)


def register_timeline(provider) -> None:
    if provider not in _timeline_providers:
        _timeline_providers.append(provider)


def timeline_for(client, *, limit: int = 50) -> list[TimelineEntry]:
    entries = [entry for provider in _timeline_providers for entry in provider(client, limit)]
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]
