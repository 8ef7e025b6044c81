"""Registries through which the other apps plug into the client record without clientmgmt
importing them (a lower layer never imports a higher one):

- timeline sources: each kind of entry on the client page's timeline (`register_timeline_source`):
  a queryset of the client's rows in the shared TIMELINE columns and a function that turns a row
  into a TimelineEntry. All sources are read in ONE query (a UNION ALL ordered by time), so the
  client page keeps its query count however many departments contribute, and the timeline can
  be filtered by kind;
- visit sources: who visited which department (`register_visit_source`), for segments and the
  archives' filter: the front desk's visits (a booked client's arrival is a visit too, made by
  the check-in), one query per source on every filtered page;
- merge checks: functions that refuse a merge the app's rows could not survive (two live
  membership cards): `register_merge_check(check)`, check(survivor, merged) raises
  ValidationError;
- identifier lookups: other numbers that find a client in the search (a membership card number):
  `register_identifier_lookup(lookup)`, lookup(value) -> client ids;
- record guards: rules that keep a record's details from people who do not need them (a VIP's,
  seed 保密原则): `register_record_guard(guard, many=...)`, guard(user, client) -> True when the
  user may see the whole record, many(user, clients) -> the ids of those of a list they may (an
  export or a page of rows, in a fixed number of queries); everyone else gets the masked summary
  their task needs;
- record panels: what the desks must see first on the client page, from a layer above (an open
  referral): `register_record_panel(panel)`, panel(user, client) -> None or (template, context);
- consent withdrawal effects: what a withdrawal stops in the layers above, at once and in the
  same transaction (messaging suppresses the client's pending messages of that purpose):
  `register_consent_withdrawn(effect)`, effect(client, purpose) with the purpose's code;
- link rules: pages whose role may open some but not all (a complaint's page is its handlers'):
  `register_link_rule("complaints:complaint_detail", rule)`, rule(user) -> bool, so the timeline
  links to them only for those the rule lets in.

Apps register in their AppConfig.ready(). (What a merge moves is no registry: it is every
foreign key to a client, read from the models; clientmgmt.services.merge_relations.)
"""

import hashlib
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models, router
from django.db.models.functions import Cast, Coalesce, Concat, NullIf, Trim

_timeline_sources: dict[str, "TimelineSource"] = {}
_visit_sources: list = []
_merge_checks: list = []
_identifier_lookups: list = []
_record_guards: list = []
_consent_withdrawn: list = []


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # a short machine name, used as a CSS hook: "created", "booking", ...
    title: str
    detail: str = ""
    actor: str = ""
    url: str = ""
    # The URL name of `url` (zhongdu.links.row_link), so that the page can tell whether the reader
    # may follow it without resolving the address again; empty: resolved from `url`.
    view_name: str = ""
    extra: dict = field(default_factory=dict)
    badge: str = ""  # a short flag shown beside the title ("Priority" on a VIP booking)


@dataclass(frozen=True)
class TimelineSource:
    """One kind of timeline entry. `rows(client)` is a values() queryset of the client's rows
    with exactly the columns timeline_columns() names (so that it can join the UNION);
    `entry(row)` turns one row into a TimelineEntry in the reader's language."""

    kind: str
    label: object  # the filter's label (lazy translation)
    rows: Callable
    entry: Callable


_TEXT = models.TextField()
_MONEY = models.DecimalField(max_digits=12, decimal_places=2)


def timeline_columns(
    *,
    kind: str,
    at,
    number=None,
    status=None,
    first=None,
    second=None,
    third=None,
    actor=None,
    amount=None,
) -> dict:
    """The columns every timeline source selects, as values(**columns) arguments: when, the
    kind, a row id (for links), a status code, three texts, who, and an amount. Columns a source
    has no use for are typed empties, as a UNION needs."""

    def text(value):
        if value is None:
            return models.Value("", output_field=_TEXT)
        if isinstance(value, str):
            value = models.F(value)
        return Coalesce(Cast(value, _TEXT), models.Value("", output_field=_TEXT))

    if number is None:
        number = "pk"
    return {
        "t_at": models.F(at) if isinstance(at, str) else at,
        "t_kind": models.Value(kind, output_field=_TEXT),
        "t_number": models.F(number) if isinstance(number, str) else number,
        "t_status": text(status),
        "t_first": text(first),
        "t_second": text(second),
        "t_third": text(third),
        "t_actor": text(actor),
        # A typed NULL: Postgres takes an untyped one in a UNION's first part for text.
        "t_amount": amount if amount is not None else Cast(models.Value(None), _MONEY),
    }


def user_name(path: str):
    """A user's name as the pages show it (full name, else username), as an expression on the
    relation `path` ("actor", "consultant")."""
    full = Trim(Concat(f"{path}__first_name", models.Value(" "), f"{path}__last_name"))
    return Coalesce(NullIf(full, models.Value("")), f"{path}__username", output_field=_TEXT)


def register_timeline_source(source: TimelineSource) -> None:
    """Add a kind of entry to the timeline. A kind is one source's: a second source under a name
    already taken would be dropped without a word, so it stops the start instead."""
    registered = _timeline_sources.setdefault(source.kind, source)
    if registered != source:
        raise ImproperlyConfigured(f"Two timeline sources are called {source.kind!r}.")


def timeline_kinds() -> list[tuple[str, object]]:
    """(kind, label) of every source, for the timeline's filter."""
    return [(kind, source.label) for kind, source in _timeline_sources.items()]


# The timeline's UNION of every source is the same SQL for every client but for the client's id:
# building and compiling it through the ORM cost about 20 ms a page (more than running it), so
# it is compiled once per process, source list and database, for a client whose id no row has,
# and run with the real id in its place. Every source filters by the client (its rows(client)
# reads nothing else of it and nothing of the clock); the ORM's own converters still turn the
# values into Python ones (SQLite's dates are text).
#
# On Postgres, planning that UNION of fifteen joins costs ten times running it (2.7 ms against
# 0.3 ms for a client at a million records), so each database session prepares it once
# (PREPARE ... AS, the id as $1) and the page runs EXECUTE: Postgres then reuses the plan.
# A prepared statement lives as long as its session and survives a rolled-back transaction;
# the sessions that have one are tracked by their DB-API connection, so a reconnection
# prepares again. (Not for a pooler that hands one session's statements to another, such as
# PgBouncer in transaction mode: docker-compose connects to Postgres directly.)
_SENTINEL_ID = -917_315_731
_SENTINEL_LITERAL = re.compile(r"\s?-917315731(?!\d)")


@dataclass(frozen=True)
class _CompiledTimeline:
    sql: str
    params: tuple
    converters: dict
    name: str  # of the prepared statement, on Postgres


_compiled_timelines: dict[tuple, _CompiledTimeline] = {}
_prepared_timelines: "weakref.WeakKeyDictionary[object, set[str]]" = weakref.WeakKeyDictionary()


def _timeline_union(sources, client, limit: int):
    parts = [source.rows(client).order_by() for source in sources]
    union = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return union.order_by("-t_at")[:limit]


def _compiled_timeline(sources, limit: int, using: str) -> _CompiledTimeline:
    key = (tuple(source.kind for source in sources), limit, using)
    compiled = _compiled_timelines.get(key)
    if compiled is None:
        from .models import Client  # models import this module

        union = _timeline_union(sources, Client(pk=_SENTINEL_ID), limit)
        compiler = union.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        fields = [column[0] for column in compiler.select[0 : compiler.col_count]]
        compiled = _CompiledTimeline(
            sql=sql,
            params=tuple(params),
            converters=compiler.get_converters(fields),
            # Named by what it runs, so two processes or threads compiling at once agree.
            name="zhongdu_timeline_"
            + hashlib.sha256(repr((sql, params)).encode()).hexdigest()[:16],
        )
        _compiled_timelines[key] = compiled
    return compiled


def _prepare(connection, compiled: _CompiledTimeline) -> bool:
    """Prepare the timeline in this Postgres session once; False where it cannot be (then the
    plain query runs)."""
    connection.ensure_connection()
    raw = connection.connection
    done = _prepared_timelines.setdefault(raw, set())
    if compiled.name in done:
        return True
    literal = connection.ops.compose_sql(compiled.sql, compiled.params)
    body, replaced = _SENTINEL_LITERAL.subn(" $1", literal)
    if replaced != compiled.params.count(_SENTINEL_ID):
        return False
    # Session set-up, as Django's own (time zone, role): on the DB-API cursor, so it is not one
    # of the page's queries.
    with raw.cursor() as cursor:
        cursor.execute(f"PREPARE {compiled.name} (bigint) AS {body}")
    done.add(compiled.name)
    return True


def _timeline_rows(client, *, limit: int, kinds=None) -> list[dict]:
    sources = [s for k, s in _timeline_sources.items() if kinds is None or k in kinds]
    if not sources:
        return []
    using = router.db_for_read(type(client))
    compiled = _compiled_timeline(sources, limit, using)
    connection = connections[using]
    if connection.vendor == "postgresql" and _prepare(connection, compiled):
        sql, params = f"EXECUTE {compiled.name} (%s)", [client.pk]
    else:
        sql = compiled.sql
        params = [client.pk if value == _SENTINEL_ID else value for value in compiled.params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        rows = cursor.fetchall()
    result = []
    for row in rows:
        values = list(row)
        for position, (functions, expression) in compiled.converters.items():
            for function in functions:
                values[position] = function(values[position], expression, connection)
        result.append(dict(zip(names, values, strict=True)))
    return result


def timeline_for(client, *, limit: int = 50, kinds=None) -> list[TimelineEntry]:
    """The client's latest entries of every source (or of `kinds`), newest first: one query."""
    rows = _timeline_rows(client, limit=limit, kinds=kinds)
    return [_timeline_sources[row["t_kind"]].entry(row) for row in rows]


def timeline_by_source(client, *, limit: int = 300, kinds=None) -> list[tuple]:
    """The same single query as timeline_for, its entries grouped by source: [(kind, label,
    entries newest first)] in the order the sources were registered, empty sources left out.
    (An entry's own `kind` may be finer than its source's: the record's history says
    "created", "updated"...)"""
    grouped: dict[str, list[TimelineEntry]] = {}
    for row in _timeline_rows(client, limit=limit, kinds=kinds):
        kind = row["t_kind"]
        grouped.setdefault(kind, []).append(_timeline_sources[kind].entry(row))
    return [
        (kind, source.label, grouped[kind])
        for kind, source in _timeline_sources.items()
        if kind in grouped
    ]


def register_visit_source(source) -> None:
    """source(department_id) -> a queryset of client ids who visited that department; used to
    pick clients by the department they visited (campaign segments)."""
    if source not in _visit_sources:
        _visit_sources.append(source)


# A source with fewer rows than this for a department gives its clients' ids as a list
# (visited_condition(paged=True)); a busier one is probed client by client.
PAGED_IN_LIMIT = 5000


def visited_condition(department_id, *, paged: bool = False):
    """A Q on Client: visited the department, by any registered source (none: nobody).

    By default `pk IN (subquery)`: Postgres hashes each source's clients once, right for
    reading a whole segment (a campaign). `paged=True` is for a page of a list walked in id
    order with a LIMIT (the archives), where that plan walks the client table until the page is
    full: 0.3 s for a busy department at 2 million visits (hashing its visits), the whole table
    for a department nobody visited. So each source is read first, up to PAGED_IN_LIMIT rows
    (one indexed query): a source with fewer gives its client ids as a list (the page then reads
    just those records); a busier one is probed per client walked (its visitors are dense, so
    the page fills after a few hundred probes: a few ms)."""
    from django.db.models import Exists, OuterRef, Q

    if not paged:
        condition = Q(pk__in=[])
        for source in _visit_sources:
            condition |= Q(pk__in=source(department_id))
        return condition
    listed: set[int] = set()
    probed = Q(pk__in=[])
    for source in _visit_sources:
        rows = source(department_id)
        ids = list(rows.order_by().values_list("client_id", flat=True)[:PAGED_IN_LIMIT])
        if len(ids) < PAGED_IN_LIMIT:
            listed.update(ids)
        else:
            # client_id BETWEEN id AND id, not "= id": with an equality Postgres may turn the
            # EXISTS back into a hashed subplan over every row of the source; a range keeps it
            # a probe of the source's client index for each record walked.
            probed |= Q(
                Exists(rows.filter(client_id__gte=OuterRef("pk"), client_id__lte=OuterRef("pk")))
            )
    return Q(pk__in=sorted(listed)) | probed


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


def register_record_guard(guard, *, many=None) -> None:
    if all(registered != guard for registered, _many in _record_guards):
        _record_guards.append((guard, many))


def may_see_whole_record(user, client) -> bool:
    """Every registered guard lets this user see the whole record."""
    return all(guard(user, client) for guard, _many in _record_guards)


def whole_record_ids(user, clients) -> set[int]:
    """may_see_whole_record for a list of clients (an export, a page of rows): the ids of those
    whose whole record `user` may see, asking each guard once for the whole list."""
    clients = list(clients)
    allowed = {client.pk for client in clients}
    for guard, many in _record_guards:
        if many is not None:
            allowed &= many(user, clients)
        else:
            allowed &= {client.pk for client in clients if guard(user, client)}
    return allowed


# --- The client page's panels ------------------------------------------------------------------
# A higher layer shows what the desks must see first on the client page (an open referral) without
# clientmgmt importing it: `panel(user, client)` returns None, or (template name, context) for
# an `{% include %}` on the page. One query each at most: the page pins its query count.
_record_panels: list = []


def register_record_panel(panel) -> None:
    if panel not in _record_panels:
        _record_panels.append(panel)


def record_panels(user, client) -> list[tuple[str, dict]]:
    return [shown for panel in _record_panels if (shown := panel(user, client)) is not None]


# Pages whose role may open some of them but not all (a complaint's page is its handlers'): the
# client page's timeline links to them only for users the rule lets in, beyond PAGE_ACCESS.
_link_rules: dict[str, Callable] = {}


def register_link_rule(view_name: str, rule) -> None:
    """rule(user) -> bool, for links to the page named `view_name` ("app:name")."""
    _link_rules[view_name] = rule


def link_rule(view_name: str):
    return _link_rules.get(view_name)


def register_consent_withdrawn(effect: Callable) -> None:
    if effect not in _consent_withdrawn:
        _consent_withdrawn.append(effect)


def consent_withdrawn(client, purpose: str) -> None:
    """Tell the layers above that `client` withdrew consent to `purpose` (inside the
    withdrawal's transaction: the effects stand or fall with it)."""
    for effect in _consent_withdrawn:
        effect(client, purpose)
