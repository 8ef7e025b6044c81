"""Reads of the hospital directory: what the knowledge desk shows for a caller's question."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import reduce
from operator import and_, or_

from django.db.models import Prefetch, Q
from django.utils import timezone

from zhongdu.models import ClinicSession, Department, Expert, KnowledgeArticle, PriceItem

# Each section shows at most this many rows: a caller's question needs a few answers, not a
# catalogue, and it keeps the fragment small enough to re-render on every keystroke.
DESK_LIMIT = 20
QUERY_MAX_LENGTH = 50
MAX_TERMS = 5


@dataclass(frozen=True)
class DeskResults:
    query: str = ""
    week_start: date | None = None
    week_end: date | None = None
    prices: list[PriceItem] = field(default_factory=list)
    departments: list[Department] = field(default_factory=list)
    experts: list[Expert] = field(default_factory=list)
    articles: list[KnowledgeArticle] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.prices or self.departments or self.experts or self.articles)


def _matching(terms: list[str], *fields: str) -> Q:
    """Every term appears in at least one of the fields (substring, case-insensitive).

    The directory's tables hold hundreds of rows, not millions: a substring scan is cheaper than
    keeping a search index for them, and it finds Chinese words inside longer names.
    """
    return reduce(
        and_,
        (reduce(or_, (Q(**{f"{name}__icontains": term}) for name in fields)) for term in terms),
    )


def knowledge_desk_search(*, query: str, today: date | None = None) -> DeskResults:
    """Prices, departments, experts (with their scheduled sessions from today to six days ahead)
    and knowledge articles matching every word of the query.

    Six queries whatever the number of results: one per section, plus the experts' departments
    and week sessions prefetched. An empty query runs none.
    """
    terms = query.split()[:MAX_TERMS]
    if not terms:
        return DeskResults()
    today = today or timezone.localdate()
    week_end = today + timedelta(days=6)
    week_sessions = (
        ClinicSession.objects.filter(
            date__range=(today, week_end), status=ClinicSession.Status.SCHEDULED
        )
        .select_related("department")
        .order_by("date", "start_time")
    )
    experts = (
        Expert.objects.filter(_matching(terms, "name", "specialties"), active=True)
        .prefetch_related(
            "departments",
            # Served by session_expert_date_idx (expert, date).
            Prefetch("sessions", queryset=week_sessions, to_attr="week_sessions"),
        )
        .order_by("name")
    )
    return DeskResults(
        query=query,
        week_start=today,
        week_end=week_end,
        prices=list(
            PriceItem.objects.filter(_matching(terms, "code", "name"), active=True)
            .select_related("department")
            .order_by("category", "code")[:DESK_LIMIT]
        ),
        departments=list(
            Department.objects.filter(_matching(terms, "name", "specialties"), active=True)[
                :DESK_LIMIT
            ]
        ),
        experts=list(experts[:DESK_LIMIT]),
        articles=list(
            KnowledgeArticle.objects.filter(
                _matching(terms, "title", "keywords", "body"), active=True
            )[:DESK_LIMIT]
        ),
    )
