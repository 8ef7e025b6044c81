"""Registries through which the other apps plug into the client record without clientmgmt
importing them (a lower layer never imports a higher one):

- merge relations: every row pointing at a client that must follow the person when two records
  are merged: `register_merge_relation(Booking, "client")`;
- timeline providers: functions that return a client's entries for the client page:
  `register_timeline(provider)`, where provider(client, limit) -> list[TimelineEntry];
- visit sources: who visited which department (`register_visit_source`), for segments;
- merge checks: functions that refuse a merge the app's rows could not survive (two live
  membership cards): `register_merge_check(check)`, check(survivor, merged) raises
  ValidationError;
- identifier lookups: other numbers that find a client in the search (a membership card number):
  `register_identifier_lookup(lookup)`, lookup(value) -> client ids.

Apps register in their AppConfig.ready().
"""

from dataclasses import dataclass, field
from datetime import datetime

_merge_relations: list[tuple[type, str]] = []
_timeline_providers: list = []
_visit_sources: list = []
_merge_checks: list = []
_identifier_lookups: list = []


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


def register_visit_source(source) -> None:
    """source(department_id) -> a queryset of client ids who visited that department; used to
    pick clients by the department they visited (campaign segments)."""
    if source not in _visit_sources:
        _visit_sources.append(source)


def visited_condition(department_id):
    """A Q on Client: visited the department, by any registered source (none: nobody)."""
    from django.db.models import Q

    condition = Q(pk__in=[])
    for source in _visit_sources:
        condition |= Q(pk__in=source(department_id))
    return condition


def register_merge_check(check) -> None:
    if check not in _merge_checks:
        _merge_checks.append(check)


def check_merge(survivor, merged) -> None:
    """Raise ValidationError (with a message for staff) if an app refuses this merge."""
    for check in _merge_checks:
        check(survivor, merged)


def register_identifier_lookup(lookup) -> None:
    """lookup(value) -> an iterable of client ids whose card (or other number) is `value`."""
    if lookup not in _identifier_lookups:
        _identifier_lookups.append(lookup)


def client_ids_by_identifier(value: str) -> list[int]:
    ids: list[int] = []
    for lookup in _identifier_lookups:
        ids.extend(lookup(value))
    return list(dict.fromkeys(ids))
