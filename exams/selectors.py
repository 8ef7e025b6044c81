"""Reads of the results: the one access-checked fetch of an order's results, the results page's
rows (one query each for the items, their definitions' ranges and the history), and the
clinicians' worklist."""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import Http404
from django.utils import timezone

from clientmgmt.selectors import may_see_whole_record
from guide.models import ExamOrder, ExamOrderItem
from zhongdu import roles

from . import flags
from .models import ExamResultRevision, ResultDefinition, ResultRelease

RESULT_READERS = roles.RESULT_READERS


def order_get_for_user(user, pk, *, write: bool = False) -> ExamOrder:
    """The one way the results and assessment pages fetch an order: 404 if there is none; 403
    unless the user reads results (RESULT_READERS; with `write`, writes assessments:
    ASSESSMENT_WRITERS) and the discretion rule lets them see the client's whole record (a VIP's
    results only for those who serve them). Whether the values show is `values_shown`'s."""
    try:
        order = ExamOrder.objects.select_related("client", "package__price_item", "visit").get(
            pk=pk
        )
    except (ExamOrder.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None
    if not (roles.user_roles(user) & RESULT_READERS):
        raise PermissionDenied
    if write and not (roles.user_roles(user) & roles.ASSESSMENT_WRITERS):
        raise PermissionDenied
    if not may_see_whole_record(user, order.client):
        raise PermissionDenied
    return order


# Those who see the values before the release: the examining staff (entry) and the clinicians
# who release. Nothing is shown outside the centre before the release.
BEFORE_RELEASE = roles.RESULT_ENTRY | roles.RESULT_RELEASERS


def values_shown(user, release) -> bool:
    """Whether the user sees the order's values, files and history: after the release, every
    result reader; before, only the examining staff and the releasing clinicians."""
    return release is not None or bool(roles.user_roles(user) & BEFORE_RELEASE)


def release_of(order: ExamOrder) -> ResultRelease | None:
    return ResultRelease.objects.filter(order=order).select_related("released_by").first()


@dataclass
class ResultRow:
    """One examination of the order as the results page shows it."""

    item: ExamOrderItem
    definition: ResultDefinition | None
    result: object = None  # the ExamResult in force, or None
    rule: str = ""  # the rule a value would be judged by (for the person), or the result's
    answers: list = field(default_factory=list)
    history: list = field(default_factory=list)

    @property
    def pk(self):
        return self.item.pk


def _client_facts(order):
    client = order.client
    sex = client.sex if client.sex in ("female", "male") else ""
    return sex, client.age_on(timezone.localdate(order.ordered_at))


def _rule_for(definition: ResultDefinition, *, sex, age) -> str:
    if definition.kind == ResultDefinition.Kind.NUMBER:
        candidate = flags.range_for(definition, sex=sex, age=age, ranges=definition.ranges.all())
        return flags.range_text(definition, candidate) if candidate else ""
    if definition.kind == ResultDefinition.Kind.CHOICE:
        return flags.choices_text(definition)
    return ""


def result_rows(order: ExamOrder) -> list[ResultRow]:
    """The order's examinations in order, each with its definition (None: it yields no result),
    the value in force and its history. Four queries whatever the number of items: the items
    with their definitions, results and recorders; the definitions' ranges; the histories."""
    revisions = ExamResultRevision.objects.select_related("recorded_by").order_by("revision")
    items = (
        order.items.select_related(
            "price_item__result_definition", "result__recorded_by", "done_by"
        )
        .prefetch_related(
            "price_item__result_definition__ranges",
            Prefetch("result__revisions", queryset=revisions),
        )
        .order_by("pk")
    )
    sex, age = _client_facts(order)
    rows = []
    for item in items:
        definition = getattr(item.price_item, "result_definition", None)
        result = getattr(item, "result", None)
        row = ResultRow(item=item, definition=definition, result=result)
        if definition is not None:
            row.rule = (
                result.rule if result is not None else _rule_for(definition, sex=sex, age=age)
            )
            row.answers = [choice["value"] for choice in definition.choices]
        if result is not None:
            row.history = list(result.revisions.all())
        rows.append(row)
    return rows


def result_item_get(order: ExamOrder, item_pk) -> ExamOrderItem:
    """An examination of this order (404 if it is not one)."""
    try:
        return order.items.select_related("price_item__result_definition").get(pk=item_pk)
    except (ExamOrderItem.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


# --- The worklist -------------------------------------------------------------------------

TO_ENTER, TO_RELEASE, BOTH = "enter", "release", "all"


def results_worklist(*, waiting: str = BOTH):
    """Orders (not cancelled, not released) with an examination that yields a result: those with
    results still to enter, those complete and awaiting the clinician's release, or both; newest
    first (id order, for keyset pages)."""
    expected = ExamOrderItem.objects.filter(
        order=OuterRef("pk"), price_item__result_definition__isnull=False
    )
    missing = expected.filter(result__isnull=True)
    qs = (
        ExamOrder.objects.exclude(status=ExamOrder.Status.CANCELLED)
        .filter(release__isnull=True)
        .filter(Exists(expected))
        .annotate(
            has_missing=Exists(missing),
            # distinct: the two joins multiply each other's rows.
            expected_count=Count(
                "items",
                filter=Q(items__price_item__result_definition__isnull=False),
                distinct=True,
            ),
            recorded_count=Count("results", distinct=True),
        )
        .select_related("client", "package__price_item")
        .order_by("-pk")
    )
    if waiting == TO_ENTER:
        qs = qs.filter(has_missing=True)
    elif waiting == TO_RELEASE:
        qs = qs.filter(has_missing=False)
    return qs
