"""The team report of an enterprise's exam round (团体体检报告): what the employer is given, with no
individual identifiable.

A round's orders are the released exam orders (not cancelled) of the enterprise's employees
placed within the round's dates (the order's local date in [starts_on, ends_on]). Only employees
who agreed to have their results counted for their employer (clientmgmt.consent
EMPLOYER_AGGREGATE) are counted. The report shows:

- participation: the employees on the account, those examined in the round (released results),
  those counted. How many did not agree to be counted is deliberately not a figure of the
  report (the report is about the people counted, not a tally of who refused). It remains the
  difference of the two figures shown, so where that difference is one to four people the
  examined figure is hidden (as any group under five); the counted one is hidden with the
  people table's grand total;
- the people counted by age band (age on the round's first day) and sex;
- for each finding, how many counted people have it (any released result of theirs in the round
  flagged abnormal or critical whose ResultDefinition points to the finding), by age band and
  sex, with the prevalence where it may be shown;
- each finding's prevalence in the previous round of the same enterprise beside this one's;
- the advice written for the employer.

Every table goes through `suppress` (below): a group of fewer than five people is never shown,
and complementary suppression makes sure no hidden figure can be worked out from the shown ones
and the totals.

The VIP managers hand the report (its PDF, in Chinese) to the enterprise's contact and record the
handover (round_mark_sent: when, by whom, to whom with the phone masked). No SMS goes to the
contact: the contact is not necessarily a client with consents in the outbox, and a message could
only say that a report exists; the handover itself is what is recorded.

The figures are a handful of aggregate queries per round (grouped by age band and sex in the
database), whatever the number of employees: see `report`.
"""

from __future__ import annotations

import datetime
import heapq
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, CharField, Count, Exists, OuterRef, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clientmgmt.consent import EMPLOYER_AGGREGATE
from clientmgmt.models import Client
from clientmgmt.selectors import consent_condition
from guide.models import ExamOrder
from vip.models import EnterpriseMember
from zhongdu import audit, phones
from zhongdu.services import create_once

from .models import ExamResult, ExamRound
from .models.results import Flag

# The smallest group shown: any count of fewer people is hidden.
MINIMUM = 5


# --- Suppression (pure) ------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """A table of counts with its margins, and which entries are hidden.

    `values` and `hidden` are (R + 1) x (C + 1): rows 0..R-1 and columns 0..C-1 are the cells,
    column C holds each row's total, row R each column's total, and [R][C] the grand total. The
    totals are the true totals of the cells (computed before anything is hidden): the reader
    is given them, and suppression must hold with them published."""

    values: tuple[tuple[int, ...], ...]
    hidden: tuple[tuple[bool, ...], ...]
    groups: tuple[tuple[int, ...], ...]

    @property
    def rows(self) -> int:
        return len(self.values) - 1

    @property
    def columns(self) -> int:
        return len(self.values[0]) - 1

    def shown(self, row: int, column: int) -> int | None:
        """The entry, or None where it is hidden."""
        return None if self.hidden[row][column] else self.values[row][column]


def with_margins(cells: list[list[int]]) -> list[list[int]]:
    """The cells (R x C, R and C at least 1) with a column of row totals and a row of column
    totals added (the grand total in the corner)."""
    rows = [[*row, sum(row)] for row in cells]
    return [*rows, [sum(column) for column in zip(*rows, strict=True)]]


def _primary(count: int, group: int, *, of_group: bool, minimum: int) -> bool:
    """Whether an entry must be hidden for what it says itself.

    - a group of 1 to minimum-1 people (a count of people, or the people a count is taken from);
    - a count of 1 to minimum-1 people (the few who have a finding);
    - for a count taken from a group (a finding's count among the people counted): the people of
      the group *without* it, when they are 1 to minimum-1 or none at all while some have it
      (everyone in the group has the finding: each one's result is known).
    Nothing is hidden where the group is empty (there is no one to identify)."""
    if group == 0:
        return False
    if group < minimum or 0 < count < minimum:
        return True
    return of_group and count > 0 and group - count < minimum


def _nodes(row: int, column: int, rows: int) -> tuple[int, int]:
    """The graph's nodes of an entry: rows are 0..rows-1, columns rows.. on."""
    return row, rows + column


def _side(hidden: list[list[bool]], start: int, without: tuple[int, int]) -> set[int]:
    """The nodes reached from `start` through hidden entries, the entry `without` left out."""
    rows, columns = len(hidden), len(hidden[0])
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        if node < rows:
            near = [(node, c) for c in range(columns)]
        else:
            near = [(r, node - rows) for r in range(rows)]
        for r, c in near:
            if (r, c) == without or not hidden[r][c]:
                continue
            for other in _nodes(r, c, rows):
                if other not in seen:
                    seen.add(other)
                    todo.append(other)
    return seen


def _first_bridge(hidden: list[list[bool]]) -> tuple[int, int] | None:
    """The first hidden entry (row by row) on no cycle of hidden entries, or None."""
    rows = len(hidden)
    for r, line in enumerate(hidden):
        for c, is_hidden in enumerate(line):
            if is_hidden and _nodes(r, c, rows)[1] not in _side(hidden, r, (r, c)):
                return r, c
    return None


def _cheapest_chain(
    values: list[list[int]], hidden: list[list[bool]], bridge: tuple[int, int]
) -> list[tuple[int, int]]:
    """The shown entries to hide so that the hidden entry `bridge` is on a cycle: the cheapest
    path from its row's side to its column's side (hidden entries cost nothing, the bridge is
    not used; a shown entry costs (1 if zero, 1, its value), added up and compared in that
    order). Dijkstra over the (R + 1) + (C + 1) nodes."""
    rows, columns = len(hidden), len(hidden[0])
    start = _side(hidden, bridge[0], bridge)
    goal = _nodes(*bridge, rows)[1]
    best: dict[int, tuple[int, int, int]] = dict.fromkeys(start, (0, 0, 0))
    came: dict[int, tuple[int, tuple[int, int]]] = {}
    queue = [(cost, node) for node, cost in best.items()]
    heapq.heapify(queue)
    done: set[int] = set()
    while queue:
        cost, node = heapq.heappop(queue)
        if node in done:
            continue
        done.add(node)
        if node == goal:
            break
        if node < rows:
            near = [((node, c), rows + c) for c in range(columns)]
        else:
            near = [((r, node - rows), r) for r in range(rows)]
        for entry, other in near:
            if entry == bridge or other in done:
                continue
            r, c = entry
            step = (0, 0, 0) if hidden[r][c] else (values[r][c] == 0, 1, values[r][c])
            total = (cost[0] + step[0], cost[1] + step[1], cost[2] + step[2])
            if other not in best or total < best[other]:
                best[other] = total
                came[other] = (node, entry)
                heapq.heappush(queue, (total, other))
    chain, node = [], goal
    while node not in start:
        node, (r, c) = came[node]
        if not hidden[r][c]:
            chain.append((r, c))
    return chain


def suppress(
    cells: list[list[int]], groups: list[list[int]] | None = None, *, minimum: int = MINIMUM
) -> Table:
    """Which entries of a table of counts (with its margins) may be shown.

    `cells`: R x C counts of people (e.g. age bands x sexes). `groups`: the R x C groups the
    counts are taken from (the people counted in each age band and sex, for a finding's counts);
    None when the cells are themselves the groups. Returns the Table with margins.

    1. Primary suppression (`_primary`): an entry (cell or total) of a group of fewer than
       `minimum` people, a count of fewer than `minimum`, or a count that leaves fewer than
       `minimum` people of its group without it.
    2. Complementary suppression. The table with its totals is one linear system: each row's
       cells add up to its total, each column's likewise, the totals row's to the grand total.
       Negating the totals (not the grand total) makes every row and every column of the
       (R + 1) x (C + 1) table add up to nought; so the table is a bipartite graph of row nodes
       and column nodes where each hidden entry is an edge, and the reader's unknowns are the
       hidden entries. The published figures leave the hidden ones free exactly along the
       cycles of that graph: a hidden entry on no cycle (a bridge: removing it disconnects its
       row from its column) is determined by the shown figures, through however many rows and
       columns. So while a hidden entry is a bridge, the cheapest chain of shown entries from
       its row's side to its column's side is hidden too (the fewest zeros: hiding a zero
       protects little, then the fewest entries, then the smallest sum); the bridge is then on
       a cycle. Hiding entries never makes a bridge of an entry on a cycle, so this ends; at
       worst everything is hidden (a complete bipartite graph of two nodes or more a side has
       no bridge).

    Afterwards no hidden entry is determined by the shown ones and the shown totals (every
    hidden entry can move along a cycle while the published figures stay the same), hence no
    row or column has exactly one hidden entry either. Pure: no database, no side effects.
    """
    if not cells or not cells[0]:
        raise ValueError("A table needs at least one row and one column.")
    width = len(cells[0])
    if any(len(row) != width for row in cells):
        raise ValueError("Every row needs the same number of columns.")
    if any(value < 0 for row in cells for value in row):
        raise ValueError("Counts cannot be negative.")
    of_group = groups is not None
    values = with_margins(cells)
    sizes = with_margins(groups) if of_group else values
    if of_group and (len(sizes) != len(values) or len(sizes[0]) != len(values[0])):
        raise ValueError("The groups must have the cells' shape.")
    rows, columns = len(values), len(values[0])
    hidden = [
        [
            _primary(values[r][c], sizes[r][c], of_group=of_group, minimum=minimum)
            for c in range(columns)
        ]
        for r in range(rows)
    ]
    while (bridge := _first_bridge(hidden)) is not None:
        for r, c in _cheapest_chain(values, hidden, bridge):
            hidden[r][c] = True
    return Table(
        values=tuple(map(tuple, values)),
        hidden=tuple(map(tuple, hidden)),
        groups=tuple(map(tuple, sizes)),
    )


def percent(count: int | None, group: int | None, *, minimum: int = MINIMUM) -> float | None:
    """A prevalence in per cent, only where both figures are shown and the group has at least
    `minimum` people."""
    if count is None or group is None or group < minimum:
        return None
    return round(100 * count / group, 1)


def shown_figure(value: int, *, minimum: int = MINIMUM) -> int | None:
    """A lone count (no table around it): shown when 0 or at least `minimum`."""
    return value if value == 0 or value >= minimum else None


# --- Age bands and sexes -----------------------------------------------------------------------

# (key, label, youngest age, oldest age): both ends included, None open.
AGE_BANDS = (
    ("u30", gettext_lazy("Under 30"), None, 29),
    ("30", gettext_lazy("30–39"), 30, 39),
    ("40", gettext_lazy("40–49"), 40, 49),
    ("50", gettext_lazy("50 and over"), 50, None),
    ("na", gettext_lazy("Age not recorded"), None, None),
)
SEXES = (
    (Client.Sex.FEMALE.value, gettext_lazy("Women")),
    (Client.Sex.MALE.value, gettext_lazy("Men")),
    (Client.Sex.UNKNOWN.value, gettext_lazy("Sex not recorded")),
)
BAND_KEYS = [key for key, *_rest in AGE_BANDS]
SEX_KEYS = [key for key, _label in SEXES]


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def age_band(born: str, day: datetime.date) -> Case:
    """The age band on `day` of the person whose date of birth is the field `born`, in SQL: a
    person is at least N on `day` when born on or before `day` N years earlier."""
    whens = []
    for key, _label, youngest, oldest in AGE_BANDS:
        if youngest is None and oldest is None:
            continue
        condition = Q()
        if youngest is not None:
            condition &= Q(**{f"{born}__lte": _years_before(day, youngest)})
        if oldest is not None:
            condition &= Q(**{f"{born}__gt": _years_before(day, oldest + 1)})
        whens.append(When(condition, then=Value(key)))
    return Case(*whens, default=Value("na"), output_field=CharField())


def band_of(born: datetime.date | None, day: datetime.date) -> str:
    """The same in Python (tests, demo data)."""
    if born is None:
        return "na"
    age = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
    for key, _label, youngest, oldest in AGE_BANDS:
        if youngest is None and oldest is None:
            continue
        if (youngest is None or age >= youngest) and (oldest is None or age <= oldest):
            return key
    return "na"


# --- The figures -------------------------------------------------------------------------------


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def round_orders(exam_round: ExamRound):
    """The round's orders: released, not cancelled, of the enterprise's employees, placed
    within the round's dates (local days, both included)."""
    return ExamOrder.objects.filter(
        Exists(
            EnterpriseMember.objects.filter(
                enterprise_id=exam_round.enterprise_id, client=OuterRef("client")
            )
        ),
        ordered_at__gte=_day_start(exam_round.starts_on),
        ordered_at__lt=_day_start(exam_round.ends_on + datetime.timedelta(days=1)),
        release__isnull=False,
    ).exclude(status=ExamOrder.Status.CANCELLED)


def _grid(rows_of_counts: dict[tuple[str, str], int], bands, sexes) -> list[list[int]]:
    return [[rows_of_counts.get((band, sex), 0) for sex in sexes] for band in bands]


@dataclass
class FindingRow:
    finding_id: int
    name: str
    table: Table
    now: int | None = None  # the round's count (None: hidden)
    now_percent: float | None = None
    then: int | None = None  # the previous round's
    then_percent: float | None = None
    then_counted: bool = False  # the finding was looked at in the previous round


@dataclass
class RoundFigures:
    """A round's figures before any is hidden (band x sex counts)."""

    examined: int
    counted: int
    people: dict[tuple[str, str], int]
    findings: dict[int, tuple[str, dict[tuple[str, str], int]]] = field(default_factory=dict)


def round_figures(exam_round: ExamRound) -> RoundFigures:
    """Two aggregate queries: the people examined and counted by age band and sex, and the
    people counted with each finding by age band and sex."""
    day = exam_round.starts_on
    orders = round_orders(exam_round)
    consented = consent_condition(EMPLOYER_AGGREGATE, OuterRef("client"))
    people_rows = (
        orders.annotate(band=age_band("client__date_of_birth", day), consented=consented)
        .values("band", "client__sex")
        .annotate(
            examined=Count("client", distinct=True),
            counted=Count("client", distinct=True, filter=Q(consented=True)),
        )
        .order_by()
    )
    people, examined, counted = {}, 0, 0
    for row in people_rows:
        examined += row["examined"]
        counted += row["counted"]
        key = (row["band"], row["client__sex"])
        people[key] = people.get(key, 0) + row["counted"]
    figures = RoundFigures(examined=examined, counted=counted, people=people)
    finding_rows = (
        ExamResult.objects.filter(
            order__in=orders.filter(consented).values("pk"),
            flag__in=[Flag.ABNORMAL, Flag.CRITICAL],
            item__price_item__result_definition__finding__isnull=False,
        )
        .annotate(band=age_band("order__client__date_of_birth", day))
        .values(
            "item__price_item__result_definition__finding",
            "item__price_item__result_definition__finding__name",
            "band",
            "order__client__sex",
        )
        .annotate(n=Count("order__client", distinct=True))
        .order_by()
    )
    for row in finding_rows:
        finding_id = row["item__price_item__result_definition__finding"]
        name = row["item__price_item__result_definition__finding__name"]
        counts = figures.findings.setdefault(finding_id, (name, {}))[1]
        key = (row["band"], row["order__client__sex"])
        counts[key] = counts.get(key, 0) + row["n"]
    return figures


@dataclass
class RoundTotals:
    """A round's whole figures, for the comparison: the people counted, and each finding's."""

    counted: int
    findings: dict[int, tuple[str, int]]


def round_totals(exam_round: ExamRound) -> RoundTotals:
    """Two aggregate queries, without the age bands and sexes (the previous round is compared
    as a whole)."""
    counted_orders = round_orders(exam_round).filter(
        consent_condition(EMPLOYER_AGGREGATE, OuterRef("client"))
    )
    counted = counted_orders.aggregate(n=Count("client", distinct=True))["n"]
    rows = (
        ExamResult.objects.filter(
            order__in=counted_orders.values("pk"),
            flag__in=[Flag.ABNORMAL, Flag.CRITICAL],
            item__price_item__result_definition__finding__isnull=False,
        )
        .values(
            "item__price_item__result_definition__finding",
            "item__price_item__result_definition__finding__name",
        )
        .annotate(n=Count("order__client", distinct=True))
        .order_by()
    )
    findings = {
        row["item__price_item__result_definition__finding"]: (
            row["item__price_item__result_definition__finding__name"],
            row["n"],
        )
        for row in rows
    }
    return RoundTotals(counted=counted, findings=findings)


@dataclass
class Report:
    exam_round: ExamRound
    previous: ExamRound | None
    members: int
    examined: int | None
    counted: int | None
    bands: list  # [(key, label)] of the rows shown
    sexes: list  # [(key, label)] of the columns shown
    people: Table
    findings: list[FindingRow]

    @property
    def empty(self) -> bool:
        return self.people.values[-1][-1] == 0


def report(exam_round: ExamRound) -> Report:
    """The team report of a round (a handful of queries: the employees counted, two aggregates
    for the round, two for the previous one)."""
    previous = (
        ExamRound.objects.filter(
            enterprise_id=exam_round.enterprise_id, starts_on__lt=exam_round.starts_on
        )
        .order_by("-starts_on", "-pk")
        .first()
    )
    members = EnterpriseMember.objects.filter(enterprise_id=exam_round.enterprise_id).count()
    now = round_figures(exam_round)
    then = round_totals(previous) if previous is not None else None
    # Rows and columns with nobody in them are left out ("age not recorded" mostly), the others
    # kept even when empty so that two rounds read alike.
    bands = [
        (key, label)
        for key, label, *_rest in AGE_BANDS
        if key != "na" or any(now.people.get((key, sex), 0) for sex in SEX_KEYS)
    ]
    sexes = [
        (key, label)
        for key, label in SEXES
        if key != Client.Sex.UNKNOWN or any(now.people.get((b, key), 0) for b in BAND_KEYS)
    ]
    band_keys, sex_keys = [key for key, _l in bands], [key for key, _l in sexes]
    people_cells = _grid(now.people, band_keys, sex_keys)
    people = suppress(people_cells)
    rows = []
    for finding_id, (name, counts) in now.findings.items():
        table = suppress(_grid(counts, band_keys, sex_keys), people_cells)
        row = FindingRow(finding_id=finding_id, name=name, table=table)
        row.now = table.shown(-1, -1)
        row.now_percent = percent(row.now, people.shown(-1, -1))
        rows.append(row)
    if then is not None:
        by_id = {row.finding_id: row for row in rows}
        for finding_id, (name, _counts) in then.findings.items():
            if finding_id not in by_id:
                empty = suppress(_grid({}, band_keys, sex_keys), people_cells)
                by_id[finding_id] = FindingRow(finding_id=finding_id, name=name, table=empty)
                by_id[finding_id].now = empty.shown(-1, -1)
                by_id[finding_id].now_percent = percent(by_id[finding_id].now, people.shown(-1, -1))
                rows.append(by_id[finding_id])
        then_people = shown_figure(then.counted)
        for row in rows:
            total = then.findings.get(row.finding_id, ("", 0))[1]
            hide = _primary(total, then.counted, of_group=True, minimum=MINIMUM)
            row.then = None if hide else total
            row.then_percent = percent(row.then, then_people)
            row.then_counted = then.counted > 0
    # By the count as shown (a hidden one last, whatever it is: ordering by the true count
    # would tell where a hidden count lies between the shown ones), then by name.
    rows.sort(key=lambda row: (row.now is None, -(row.now or 0), row.name))
    examined = shown_figure(now.examined)
    # The people counted are the people table's grand total: hidden with it.
    counted = None if people.hidden[-1][-1] else shown_figure(now.counted)
    # Those who did not agree are not a figure of the report; where the two shown figures
    # would give away a group of one to four of them, the examined are hidden.
    if counted is not None and shown_figure(now.examined - now.counted) is None:
        examined = None
    return Report(
        exam_round=exam_round,
        previous=previous,
        members=members,
        examined=examined,
        counted=counted,
        bands=bands,
        sexes=sexes,
        people=people,
        findings=rows,
    )


# --- Rounds: create, edit, hand over ---------------------------------------------------------

ROUND_FIELDS = ("name", "starts_on", "ends_on", "advice")


def _check_dates(starts_on, ends_on):
    if ends_on < starts_on:
        raise ValidationError({"ends_on": _("The round cannot end before it starts.")})


def round_create(*, enterprise, data: dict, by, request=None, key: str = "") -> ExamRound:
    """A new round (one per form key: a double click finds the first)."""
    _check_dates(data["starts_on"], data["ends_on"])

    def create():
        exam_round = ExamRound.objects.create(
            enterprise=enterprise,
            created_by=by,
            request_key=key,
            **{name: data[name] for name in ROUND_FIELDS},
        )
        audit.record(audit.Action.CREATE, actor=by, obj=exam_round, request=request)
        return exam_round

    with transaction.atomic():
        exam_round, _created = create_once(ExamRound, key, create)
    return exam_round


def round_update(*, exam_round: ExamRound, data: dict, by, request=None) -> ExamRound:
    _check_dates(data["starts_on"], data["ends_on"])
    changed = [name for name in ROUND_FIELDS if getattr(exam_round, name) != data[name]]
    for name in ROUND_FIELDS:
        setattr(exam_round, name, data[name])
    exam_round.save(update_fields=[*ROUND_FIELDS])
    if changed:
        audit.record(audit.Action.UPDATE, actor=by, obj=exam_round, fields=changed, request=request)
    return exam_round


def contact_label(enterprise) -> str:
    """The enterprise's contact as recorded on a handover: the name and the masked phone."""
    parts = [enterprise.contact_name.strip()]
    if enterprise.contact_phone:
        parts.append(phones.mask(enterprise.contact_phone))
    return " · ".join(part for part in parts if part)[:80]


def round_mark_sent(*, exam_round: ExamRound, by, request=None) -> ExamRound:
    """Record that the report was handed to the enterprise's contact (now, by `by`). Marking it
    again (a second handover, or a double click) moves the date."""
    enterprise = exam_round.enterprise
    if not enterprise.contact_name.strip():
        raise ValidationError(
            _("The enterprise has no contact person: add one on its page before sending.")
        )
    exam_round.sent_at = timezone.now()
    exam_round.sent_by = by
    exam_round.sent_to = contact_label(enterprise)
    exam_round.save(update_fields=["sent_at", "sent_by", "sent_to"])
    audit.record(
        audit.Action.UPDATE,
        actor=by,
        obj=exam_round,
        fields=["sent_at", "sent_by", "sent_to"],
        request=request,
    )
    return exam_round


# --- For the page and the PDF ----------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    count: int | None  # None: hidden
    percent: float | None = None


def table_rows(table: Table, labels: list[str], people: Table | None = None) -> list[dict]:
    """The table's rows for a template, the totals row last: {"label", "cells": [Cell],
    "total": Cell, "is_total"}. With `people` (the people counted, same shape) each cell carries
    its prevalence where both figures are shown."""

    def cell(r, c):
        count = table.shown(r, c)
        if people is None:
            return Cell(count)
        return Cell(count, percent(count, people.shown(r, c)))

    rows = []
    for r in range(table.rows + 1):
        rows.append(
            {
                "label": labels[r] if r < table.rows else _("All"),
                "cells": [cell(r, c) for c in range(table.columns)],
                "total": cell(r, table.columns),
                "is_total": r == table.rows,
            }
        )
    return rows
