"""The health assessment and management plan written from released results, the education that
fits its findings, and the seasonal reminders.

- assessment_save: the writer's draft (the findings, the assessment, the six headings), one per
  order (HealthAssessment.order is one-to-one; the order's row is locked while writing).
- fill_from_templates: the texts of the chosen findings' health plan templates merged into the
  six headings (nothing saved: the writer edits, then saves).
- assessment_finalise: the draft written into the order's health-management plan
  (followup.CarePlan, kind "health": made by followup.services.plan_create, or the one the
  post-exam sweep already made, updated by plan_update). On the first finalising the findings'
  templates add their timepoints (return-visit calls, SMS through the outbox) and each finding
  with `reexam_after_days` adds a re-examination timepoint: a return-visit call on that day
  whose script asks the client to book the re-examination (the consultant books it while on the
  phone), with the finding's generic SMS on the day. Finalising again updates the texts only.
- education_for: the knowledge articles of the findings and the skin-health school's coming
  lectures whose title or description holds one of a finding's keywords.
- seasonal_reminders_send (beat task exams.tasks.exam_seasonal_reminders): in a finding's
  reminder months, one generic SMS per client, finding and year (the outbox's idempotency key),
  to the clients whose final assessment of the last two years named it and who have not refused
  service SMS; the outbox applies quiet hours and opt-outs at send time. The text never names a
  finding.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clientmgmt import consent
from clientmgmt.selectors import consent_condition
from events.models import Event
from followup import services as followup
from followup.models import CarePlan
from guide.models import ExamOrder
from messaging import services as messaging
from messaging.models import OutboxMessage, Purpose
from zhongdu import audit

from .models import ExamResult, Finding, HealthAssessment, ResultRelease
from .models.assessment import PLAN_HEADINGS

# The headings as the plan, the page and the report name them.
HEADING_LABELS = {
    "exercise": gettext_lazy("Exercise"),
    "diet": gettext_lazy("Diet"),
    "mental_health": gettext_lazy("Mental health"),
    "prevention": gettext_lazy("Disease prevention"),
    "sub_health": gettext_lazy("Sub-health care"),
    "insurance": gettext_lazy("Health insurance"),
}
# How far back a final assessment still brings its seasonal reminders.
REMINDER_YEARS = 2
REMINDER_HOUR = 10
MAX_TEXT = 4000


class NotReleased(ValidationError):
    """The order's results are not released: nothing is assessed or printed before."""


def released(order) -> ResultRelease | None:
    return ResultRelease.objects.filter(order=order).first()


def results_of(order) -> list[dict]:
    """The order's results as shown and printed: examination, value, unit, rule, flag."""
    rows = []
    results = (
        ExamResult.objects.filter(order=order)
        .select_related("item__price_item__result_definition")
        .order_by("item_id")
    )
    for result in results:
        definition = getattr(result.item.price_item, "result_definition", None)
        if result.value_number is not None:
            places = definition.decimals if definition is not None else 1
            value = f"{result.value_number:.{places}f}"
        else:
            value = result.value_text or result.file_label
        rows.append(
            {
                "name": result.item.price_item.name,
                "value": value,
                "unit": definition.unit if definition is not None else "",
                "rule": result.rule,
                "flag": result.flag,
                "flag_label": result.get_flag_display() if result.flag else "",
            }
        )
    return rows


def findings_suggested(order) -> list[Finding]:
    """The findings the abnormal and critical results point to (their definition's finding)."""
    ids = ExamResult.objects.filter(order=order, flag__in=["abnormal", "critical"]).values(
        "item__price_item__result_definition__finding"
    )
    return list(Finding.objects.filter(pk__in=ids, active=True).order_by("name"))


def fill_from_templates(findings, *, current: dict | None = None) -> dict:
    """The six headings with the findings' health plan templates' texts added under what is
    written already (each text once), and the assessment with a line per finding."""
    texts = {name: (current or {}).get(name, "") or "" for name in (*PLAN_HEADINGS, "assessment")}
    for finding in findings:
        template = finding.plan_template
        if template is None:
            continue
        for name in PLAN_HEADINGS:
            addition = (getattr(template, name, "") or "").strip()
            if addition and addition not in texts[name]:
                texts[name] = f"{texts[name].rstrip()}\n{addition}".strip()
    names = "、".join(finding.name for finding in findings)
    if names and names not in texts["assessment"]:
        line = _("The results point to: %(findings)s.") % {"findings": names}
        texts["assessment"] = f"{texts['assessment'].rstrip()}\n{line}".strip()
    return {name: value[:MAX_TEXT] for name, value in texts.items()}


def _locked_order(order) -> ExamOrder:
    locked = ExamOrder.objects.select_for_update().select_related("client").get(pk=order.pk)
    if locked.status == ExamOrder.Status.CANCELLED:
        raise ValidationError(_("The order was cancelled."))
    if not ResultRelease.objects.filter(order=locked).exists():
        raise NotReleased(_("The results are not released yet."))
    return locked


def assessment_save(*, order, by, findings, texts: dict, request=None) -> HealthAssessment:
    """Write the draft (or change a final assessment's texts before finalising it again)."""
    with transaction.atomic():
        locked = _locked_order(order)
        assessment = HealthAssessment.objects.filter(order=locked).first()
        created = assessment is None
        if created:
            assessment = HealthAssessment(order=locked, written_by=by)
        for name in (*PLAN_HEADINGS, "assessment"):
            setattr(assessment, name, (texts.get(name) or "")[:MAX_TEXT])
        assessment.save()
        assessment.findings.set(findings)
        audit.record(
            audit.Action.CREATE if created else audit.Action.UPDATE,
            actor=by,
            obj=assessment,
            fields=["assessment", "findings"],
            request=request,
        )
    return assessment


def _reexam_step(finding: Finding, due_on: datetime.date) -> dict:
    # Stored texts, in the hospital's language whoever finalises.
    with translation.override(settings.LANGUAGE_CODE):
        return {
            "due_on": due_on,
            # Neutral: the label shows wherever the plan's timepoints do; the finding is only in
            # the script, which only the result readers are shown (followup's call page).
            "label": _("Re-examination"),
            "call": True,
            "script": _(
                "The re-examination for %(finding)s is due. Ask the client to book it and book"
                " it with them during the call."
            )
            % {"finding": finding.name},
            "sms_template": finding.reexam_sms,
        }


def plan_steps(findings, *, starts_on: datetime.date, released_on: datetime.date) -> list[dict]:
    """The timepoints of the findings' templates from `starts_on` (the same one of two templates
    once), and a re-examination per finding that has one, counted from the release."""
    steps, seen = [], set()
    for finding in findings:
        for step in followup.default_steps(finding.plan_template, starts_on):
            key = (step["due_on"], step["label"], step["script"])
            if key not in seen:
                seen.add(key)
                steps.append(step)
        if finding.reexam_after_days:
            due = max(released_on + datetime.timedelta(days=finding.reexam_after_days), starts_on)
            steps.append(_reexam_step(finding, due))
    return sorted(steps, key=lambda step: step["due_on"])


def assessment_finalise(*, order, by, request=None) -> HealthAssessment:
    """Write the saved assessment into the order's health-management plan (see the module's
    text). Safe to repeat: one assessment and one plan per order; timepoints added once."""
    with transaction.atomic():
        locked = _locked_order(order)
        assessment = HealthAssessment.objects.select_for_update().filter(order=locked).first()
        if assessment is None:
            raise ValidationError(_("Save the assessment before finalising it."))
        findings = list(assessment.findings.select_related("plan_template", "reexam_sms"))
        first = assessment.finalised_at is None
        texts = {name: getattr(assessment, name) for name in PLAN_HEADINGS}
        texts["diagnosis"] = assessment.assessment
        release = ResultRelease.objects.get(order=locked)
        today = timezone.localdate()
        steps = (
            plan_steps(
                findings, starts_on=today, released_on=timezone.localdate(release.released_at)
            )
            if first
            else []
        )
        plan = assessment.plan or CarePlan.objects.filter(exam_order=locked).first()
        if plan is None:
            templates = [f.plan_template for f in findings if f.plan_template_id]
            plan = followup.plan_create(
                client=locked.client,
                by=by,
                starts_on=today,
                template=templates[0] if templates else None,
                kind=CarePlan.Kind.HEALTH,
                visit=locked.visit,
                exam_order=locked,
                steps=steps,
                request=request,
                **texts,
            )
        else:
            if plan.status != CarePlan.Status.ACTIVE:
                raise ValidationError(
                    _("The order's health plan is closed; it cannot take the assessment.")
                )
            plan = followup.plan_update(plan=plan, by=by, steps=steps, request=request, **texts)
        assessment.plan = plan
        assessment.status = HealthAssessment.Status.FINAL
        if first:
            assessment.finalised_at = timezone.now()
        assessment.finalised_by = by
        assessment.save()
        audit.record(
            audit.Action.UPDATE, actor=by, obj=assessment, fields=["status"], request=request
        )
    return assessment


def education_for(findings) -> dict:
    """{"articles": knowledge articles, "events": coming skin-health school lectures} that fit
    the findings: the articles linked to them; the lectures whose title or description holds one
    of their keywords."""
    findings = list(findings)
    articles, seen = [], set()
    for finding in findings:
        for article in finding.articles.filter(active=True):
            if article.pk not in seen:
                seen.add(article.pk)
                articles.append(article)
    words = {word for finding in findings for word in finding.keywords.split() if word}
    events = []
    if words:
        coming = Event.objects.filter(
            kind=Event.Kind.LECTURE, starts_at__gte=timezone.now()
        ).order_by("starts_at")[:50]
        events = [
            event
            for event in coming
            if any(word in event.title or word in event.description for word in words)
        ][:5]
    return {"articles": articles, "events": events}


def _reminder_due(today: datetime.date) -> datetime.datetime:
    moment = datetime.datetime.combine(
        today, datetime.time(REMINDER_HOUR), tzinfo=timezone.get_default_timezone()
    )
    return max(moment, timezone.now())


def seasonal_reminders_send(*, today: datetime.date | None = None) -> int:
    """The seasonal reminders due this month (see the module's text); returns how many were
    written to the outbox now (a repeated run writes none)."""
    today = today or timezone.localdate()
    since = timezone.now() - datetime.timedelta(days=365 * REMINDER_YEARS)
    written = 0
    hospital_values = messaging.hospital_placeholder_values()
    findings = Finding.objects.filter(active=True, reminder_sms__isnull=False).exclude(
        reminder_months=""
    )
    for finding in findings.select_related("reminder_sms"):
        template = finding.reminder_sms
        if today.month not in finding.months or not template.active:
            continue
        if finding.name in template.body:
            continue  # never a finding's name in an SMS (Finding.clean refuses it too)
        assessments = (
            HealthAssessment.objects.filter(
                status=HealthAssessment.Status.FINAL,
                finalised_at__gte=since,
                findings=finding,
            )
            .filter(consent_condition(consent.SERVICE_SMS, client=OuterRef("order__client")))
            .select_related("order__client")
            .order_by("order__client_id")
        )
        clients = {}
        for assessment in assessments:
            clients.setdefault(assessment.order.client_id, assessment.order.client)
        for client in clients.values():
            key = f"exam-season:{client.pk}:{finding.pk}:{today.year}"
            if OutboxMessage.objects.filter(idempotency_key=key).exists():
                continue
            with transaction.atomic():
                messaging.outbox_enqueue(
                    idempotency_key=key,
                    purpose=template.purpose or Purpose.HEALTH_TIP,
                    client=client,
                    template_code=template.code,
                    values={"name": client.name},
                    send_after=_reminder_due(today),
                    hospital_values=hospital_values,
                )
            written += 1
    return written


def report_context(order) -> dict:
    """What the client's printed report shows (exams/report_pdf.html); call it in the language
    the report is printed in."""
    client = order.client
    release = released(order)
    assessment = HealthAssessment.objects.filter(order=order).select_related("plan").first()
    findings = list(assessment.findings.all()) if assessment is not None else []
    plan = assessment.plan if assessment is not None else None
    source = plan or assessment
    return {
        "order": order,
        "client": client,
        "sex": client.get_sex_display() if client.sex in ("female", "male") else "",
        "age": client.age_on(timezone.localdate(order.ordered_at)),
        "phone": client.phone_masked,
        "release": release,
        "results": results_of(order),
        "assessment": assessment,
        "final": assessment is not None and assessment.status == HealthAssessment.Status.FINAL,
        "headings": [
            (HEADING_LABELS[name], getattr(source, name, "") or "") for name in PLAN_HEADINGS
        ]
        if source is not None
        else [],
        "steps": list(plan.steps.exclude(status="cancelled").order_by("due_on", "pk"))
        if plan is not None
        else [],
        "education": education_for(findings),
    }
