"""Results lookup (检查结果查询, /my/results/): the released exam results of the record the
person sees (`request.patient.subject`), the final health assessment and plan, the report.

- Only released orders (exams.ResultRelease) are listed or opened: before the release nobody
  outside the examining staff sees a value, the person included.
- A critical value (危急值) is withheld until staff have reached the person about it: the order's
  critical alert (exams.ResultAlert) carries `reached_at` (cleared again when a correction reopens
  it). Until then the page says the hospital will call and gives the hotline, without the value;
  the assessment and the report (which print every value) wait too.
- Only a final assessment is shown, never a draft.
- Every look is audited by `portal_username(...)` (the list as a view of the client record, an
  order and its report as views of the exam order), so it shows in the record's access log.
"""

import dataclasses

from django.db.models import Exists, Max, OuterRef
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from exams.assessment import HEADING_LABELS, results_of
from exams.models import ExamResult, HealthAssessment, ResultAlert
from exams.models.assessment import PLAN_HEADINGS
from exams.models.results import Flag
from guide.models import ExamOrder
from zhongdu import audit, phones
from zhongdu.masking import mask_name

from .models import ResultsSeen
from .services import portal_username

# What a flag means, said to the person in plain words.
PLAIN_FLAGS = {
    Flag.NORMAL: pgettext_lazy("portal result", "Within the normal range"),
    Flag.ABNORMAL: pgettext_lazy(
        "portal result", "Outside the normal range: the hospital explains it to you"
    ),
    Flag.CRITICAL: pgettext_lazy(
        "portal result", "Needs prompt care: the hospital has talked it through with you"
    ),
    Flag.NONE: pgettext_lazy("portal result", "No range to compare with"),
}


def critical_waiting(order="pk"):
    """An order's critical value nobody has reached the person about yet (an alert closed as
    unreachable has not reached them): the one rule every portal page and the data copy apply.
    `order` names the order's id in the outer query ("pk" on orders, "order" on results)."""
    critical = ExamResult.objects.filter(order=OuterRef(order), flag=Flag.CRITICAL)
    reached = ResultAlert.objects.filter(
        order=OuterRef(order), level=ResultAlert.Level.CRITICAL, reached_at__isnull=False
    )
    return Exists(critical) & ~Exists(reached)


def released_orders(subject):
    """The subject's orders whose results are released, newest first (by id: keyset pages),
    each with `withheld` (a critical value waits for the hospital's call). One query."""
    return (
        ExamOrder.objects.filter(client=subject, release__isnull=False)
        .exclude(status=ExamOrder.Status.CANCELLED)
        .select_related("release", "package__price_item")
        .annotate(withheld=critical_waiting())
        .order_by("-pk")
    )


def order_get_for_patient(patient, pk) -> ExamOrder:
    """One of the subject's released orders; 404 for anything else (another person's order,
    one not released yet, no such order), alike."""
    try:
        return released_orders(patient.subject).get(pk=pk)
    except (ExamOrder.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


@dataclasses.dataclass
class ShownResult:
    name: str
    value: str = ""
    unit: str = ""
    rule: str = ""
    flag: str = ""
    meaning: str = ""
    withheld: bool = False


def shown_results(order) -> list[ShownResult]:
    """The order's results as the person reads them (exams.assessment.results_of: what the
    report prints), a critical value left out while it waits for the hospital's call."""
    rows = []
    for row in results_of(order):
        if row["flag"] == Flag.CRITICAL and order.withheld:
            rows.append(ShownResult(name=row["name"], withheld=True))
            continue
        rows.append(
            ShownResult(
                name=row["name"],
                value=row["value"],
                unit=row["unit"],
                rule=row["rule"],
                flag=row["flag"],
                meaning=str(PLAIN_FLAGS.get(row["flag"], "")),
            )
        )
    return rows


def final_assessment(order) -> dict | None:
    """The final assessment and its plan (the six headings and the dated steps), or None: a
    draft is the writer's, never the person's."""
    assessment = (
        HealthAssessment.objects.filter(order=order, status=HealthAssessment.Status.FINAL)
        .select_related("plan")
        .first()
    )
    if assessment is None:
        return None
    source = assessment.plan or assessment
    headings = [(HEADING_LABELS[name], getattr(source, name, "") or "") for name in PLAN_HEADINGS]
    steps = []
    if assessment.plan is not None:
        steps = list(assessment.plan.steps.exclude(status="cancelled").order_by("due_on", "pk"))
    return {
        "text": assessment.assessment,
        "headings": [(label, text) for label, text in headings if text],
        "steps": steps,
    }


def watermark(patient, at=None) -> str:
    """Who opened the report and when, printed over it: the person's masked name and phone
    (the one signed in, who may be a parent opening a child's) and the time, to the minute."""
    at = timezone.localtime(at or timezone.now())
    client = patient.client
    return f"{mask_name(client.name)} {phones.mask(client.phone)} {at:%Y-%m-%d %H:%M}"


# --- Looks: audited, and remembered for the home page's card ------------------------------


def results_looked_at(*, patient, request) -> None:
    """The list was opened: audited as a view of the subject's record, and remembered."""
    audit.record(
        audit.Action.VIEW,
        obj=patient.subject,
        fields=["exam_results"],
        request=request,
        username=portal_username(patient.client),
    )
    now = timezone.now()
    updated = ResultsSeen.objects.filter(viewer=patient.client, subject=patient.subject).update(
        seen_at=now
    )
    if not updated:
        ResultsSeen.objects.get_or_create(
            viewer=patient.client, subject=patient.subject, defaults={"seen_at": now}
        )


def order_looked_at(*, patient, order, request, report: bool = False) -> None:
    """An order's results (or its report) were opened: audited as a view of the exam order."""
    audit.record(
        audit.Action.VIEW,
        obj=order,
        object_repr=f"{order} (PDF)" if report else "",
        fields=["report"] if report else ["results"],
        request=request,
        username=portal_username(patient.client),
    )


# --- The home page's card and the bottom bar ----------------------------------------------


def results_card(patient) -> dict | None:
    """'New results' when an order was released since the person last looked, 'results
    available' otherwise; nothing when there are none. Two queries."""
    latest = (
        ExamOrder.objects.filter(client=patient.subject, release__isnull=False)
        .exclude(status=ExamOrder.Status.CANCELLED)
        .aggregate(at=Max("release__released_at"))["at"]
    )
    if latest is None:
        return None
    seen = (
        ResultsSeen.objects.filter(viewer=patient.client, subject=patient.subject)
        .values_list("seen_at", flat=True)
        .first()
    )
    return {"template": "portal/_home_results.html", "new": seen is None or latest > seen}


SECTION = ("portal:results", _("Results"))


def register() -> None:
    """The card and the bottom bar's section (PortalConfig.ready)."""
    from .home import CARDS
    from .navigation import SECTIONS

    if results_card not in CARDS:
        CARDS.append(results_card)
    if SECTION not in SECTIONS:
        SECTIONS.append(SECTION)
