"""The team report of an enterprise's exam rounds (/vip/enterprises/<id>/exam-report/) and the
rounds themselves: created and edited by the VIP managers (TEAM_REPORT_DESK), read by them and
the managers (TEAM_REPORT_READERS), printed as a PDF in Chinese for the enterprise's contact and
marked as handed over. Routed from config/urls.py (exams.team_urls, namespace "teams") under the
enterprise's address: vip sits below exams and cannot import it.

Nothing here shows a person: the figures are counts of groups (exams.teams), every read of a
report is audited once, as the round's (an aggregate), never per client.
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vip.selectors import enterprise_get
from zhongdu import audit, phones
from zhongdu.exports import audited_download
from zhongdu.forms import new_form_key
from zhongdu.pdf import pdf_export, render_pdf
from zhongdu.roles import user_may_open

from . import teams
from .models import ExamRound
from .team_forms import ExamRoundForm


def _round_get(enterprise, round_pk) -> ExamRound:
    try:
        return ExamRound.objects.get(pk=int(round_pk), enterprise=enterprise)
    except (ExamRound.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404 from None


def _chosen_round(request, enterprise, rounds):
    """The round asked for (?round=<id>, one of the enterprise's), else the latest; None when
    the enterprise has none. A round that is not the enterprise's is not found."""
    asked = request.GET.get("round", "").strip()
    if asked:
        if not asked.isdigit() or len(asked) > 18:
            raise Http404
        for exam_round in rounds:
            if exam_round.pk == int(asked):
                return exam_round
        raise Http404
    return rounds[0] if rounds else None


def _report_context(enterprise, exam_round):
    data = teams.report(exam_round)
    band_labels = [str(label) for _key, label in data.bands]
    return {
        "enterprise": enterprise,
        "exam_round": exam_round,
        "data": data,
        "people_rows": teams.table_rows(data.people, band_labels),
        "finding_tables": [
            (row, teams.table_rows(row.table, band_labels, data.people)) for row in data.findings
        ],
        "minimum": teams.MINIMUM,
    }


@require_GET
def report(request, pk):
    enterprise = enterprise_get(pk)
    rounds = list(
        ExamRound.objects.filter(enterprise=enterprise)
        .select_related("sent_by")
        .order_by("-starts_on", "-pk")
    )
    exam_round = _chosen_round(request, enterprise, rounds)
    context = {
        "enterprise": enterprise,
        "rounds": rounds,
        "exam_round": exam_round,
        "can_write": user_may_open(request.user, "teams:round_new"),
        "contact_phone_masked": phones.mask(enterprise.contact_phone),
    }
    if exam_round is not None:
        context.update(_report_context(enterprise, exam_round))
        audit.record(
            audit.Action.VIEW,
            obj=exam_round,
            object_repr=f"{enterprise} · {exam_round}",
            request=request,
        )
    return render(request, "exams/teams/report.html", context)


@require_GET
def report_pdf(request, pk):
    enterprise = enterprise_get(pk)
    rounds = list(ExamRound.objects.filter(enterprise=enterprise).order_by("-starts_on", "-pk"))
    exam_round = _chosen_round(request, enterprise, rounds)
    if exam_round is None:
        raise Http404
    # For the employer: in the hospital's language, whichever the person printing reads.
    with translation.override(settings.LANGUAGE_CODE):
        context = _report_context(enterprise, exam_round)
        context["printed_at"] = timezone.localtime()
        pdf = render_pdf("exams/teams/report_pdf.html", context, request=request)
    return audited_download(
        request,
        pdf_export(pdf),
        filename=f"team-report-{exam_round.starts_on:%Y%m%d}-{exam_round.pk}",
        obj=exam_round,
        object_repr=f"{enterprise} · {exam_round} (PDF)",
    )


def _form_page(request, form, enterprise, exam_round=None):
    context = {"form": form, "enterprise": enterprise, "exam_round": exam_round}
    status = 422 if form.errors else 200
    return render(request, "exams/teams/round_form.html", context, status=status)


def _service_errors(form, exc: ValidationError):
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@require_http_methods(["GET", "POST"])
def round_new(request, pk):
    enterprise = enterprise_get(pk)
    if request.method == "POST":
        form = ExamRoundForm(request.POST)
        if form.is_valid():
            try:
                exam_round = teams.round_create(
                    enterprise=enterprise,
                    data=form.service_data(),
                    by=request.user,
                    request=request,
                    key=form.cleaned_data["key"],
                )
            except ValidationError as exc:
                _service_errors(form, exc)
            else:
                messages.success(request, _("Exam round saved."))
                return redirect(exam_round)
    else:
        form = ExamRoundForm(initial={"key": new_form_key()})
    return _form_page(request, form, enterprise)


@require_http_methods(["GET", "POST"])
def round_edit(request, pk, round_pk):
    enterprise = enterprise_get(pk)
    exam_round = _round_get(enterprise, round_pk)
    # The form edits a copy: a refused save must not show unsaved values as the round's own.
    form = ExamRoundForm(request.POST or None, instance=_round_get(enterprise, round_pk))
    if request.method == "POST" and form.is_valid():
        try:
            teams.round_update(
                exam_round=exam_round, data=form.service_data(), by=request.user, request=request
            )
        except ValidationError as exc:
            _service_errors(form, exc)
        else:
            messages.success(request, _("Exam round saved."))
            return redirect(exam_round)
    return _form_page(request, form, enterprise, exam_round)


@require_POST
def round_sent(request, pk, round_pk):
    enterprise = enterprise_get(pk)
    exam_round = _round_get(enterprise, round_pk)
    exam_round.enterprise = enterprise
    try:
        teams.round_mark_sent(exam_round=exam_round, by=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("Recorded: the report was handed to %(contact)s.") % {"contact": exam_round.sent_to},
        )
    return redirect(exam_round)
