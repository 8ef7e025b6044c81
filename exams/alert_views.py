"""The result alerts' pages: the worklist (/guide/exams/alerts/), an alert with its call button
and outcome form. Access: PAGE_ACCESS (ALERT_WORKERS); the values behind an alert only for
result readers who may see the client's whole record (exams.alerts.may_read_values)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from clientmgmt.selectors import clients_shown_for_user
from zhongdu import audit
from zhongdu.forms import MomentField
from zhongdu.pagination import keyset_page
from zhongdu.roles import user_may_open

from . import alerts
from .models import ExamResult, ResultAlert
from .models.results import Flag

PER_PAGE = 50
OPEN_SHOWN = 200


class AlertRecordForm(forms.Form):
    action = forms.ChoiceField(
        label=gettext_lazy("What happened"),
        choices=[
            (alerts.REACHED, gettext_lazy("Reached the client: close the alert")),
            (alerts.NOT_REACHED, gettext_lazy("Not reached: record an attempt")),
            (alerts.CLOSE, gettext_lazy("Close without reaching the client")),
        ],
        widget=forms.RadioSelect,
    )
    outcome = forms.ChoiceField(
        label=gettext_lazy("Closed as"),
        required=False,
        choices=[
            ("", "—"),
            (ResultAlert.Outcome.UNREACHABLE, ResultAlert.Outcome.UNREACHABLE.label),
            (ResultAlert.Outcome.OTHER, ResultAlert.Outcome.OTHER.label),
        ],
    )
    notes = forms.CharField(
        label=pgettext_lazy("alert", "What was said, the advice given, or why"),
        required=False,
        max_length=alerts.NOTES_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    called_at = MomentField(
        label=gettext_lazy("Called at"),
        required=False,
        help_text=gettext_lazy("When the call was made (now if left empty)."),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput({"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={
            "invalid": gettext_lazy("Enter the date and time of the call, e.g. 2026-03-01 14:30.")
        },
    )
    attempts = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=32767)


def _values_by_order(order_ids) -> dict:
    found: dict = {}
    results = (
        ExamResult.objects.filter(order_id__in=order_ids, flag__in=[Flag.CRITICAL, Flag.ABNORMAL])
        .select_related("item__price_item")
        .order_by("item_id")
    )
    for result in results:
        found.setdefault(result.order_id, []).append(
            {
                "flag": result.flag,
                "flag_label": result.get_flag_display(),
                "name": result.item.price_item.name,
            }
        )
    for values in found.values():
        values.sort(key=lambda value: value["flag"] != Flag.CRITICAL)
    return found


@require_GET
def alert_list(request):
    closed = request.GET.get("view") == "closed"
    if closed:
        # Newest first, by keyset (no count, no OFFSET).
        page = keyset_page(
            alerts.alerts_for_list(closed=True), before=request.GET.get("before"), size=PER_PAGE
        )
        shown_alerts = page.items
        more_open = 0
    else:
        # The open alerts, most urgent first: not paged by id (it would break the order); the
        # OPEN_SHOWN most urgent, and how many more wait.
        page = None
        shown_alerts = list(alerts.alerts_for_list()[: OPEN_SHOWN + 1])
        more_open = 0
        if len(shown_alerts) > OPEN_SHOWN:
            shown_alerts = shown_alerts[:OPEN_SHOWN]
            more_open = alerts.open_count() - OPEN_SHOWN
    shown = clients_shown_for_user(request.user, [alert.order.client for alert in shown_alerts])
    readable = [
        alert.order_id
        for alert, client in zip(shown_alerts, shown, strict=True)
        if alerts.may_read_values(request.user, client)
    ]
    values = _values_by_order(readable)
    now = timezone.now()
    rows = []
    for alert, client in zip(shown_alerts, shown, strict=True):
        if alert.order_id in values:
            audit.record(
                audit.Action.VIEW,
                actor=request.user,
                obj=alert,
                fields=["results"],
                request=request,
            )
        rows.append(
            {
                "alert": alert,
                "client": client,
                "left": alerts.time_left(alert.due_at, now) if not closed else None,
                "values": values.get(alert.order_id),
            }
        )
    return render(
        request,
        "exams/alert_list.html",
        {
            "rows": rows,
            "page": page,
            "more_open": more_open,
            "closed": closed,
            "open_critical": alerts.open_critical_count(),
            "query": "view=closed" if closed else "",
        },
    )


def _detail(request, alert, *, form=None, status=200):
    client = alert.shown_client
    readable = alerts.may_read_values(request.user, client)
    values = alerts.alert_values(alert) if readable else None
    audit.record(
        audit.Action.VIEW,
        actor=request.user,
        obj=alert,
        fields=["results"] if readable else [],
        request=request,
    )
    call = alert.followup_call
    context = {
        "alert": alert,
        "client": client,
        "values": values,
        "left": alerts.time_left(alert.due_at) if alert.status == ResultAlert.Status.OPEN else None,
        "in_time": alert.reached_at is not None and alert.reached_at <= alert.due_at,
        "may_work": client.whole,
        "form": form or AlertRecordForm(initial={"attempts": alert.attempts}),
        "events": alert.events.select_related("by").order_by("-at", "-pk"),
        "call_url": call.get_absolute_url()
        if call is not None and user_may_open(request.user, "followup:call_detail")
        else "",
    }
    return render(request, "exams/alert_detail.html", context, status=status)


@require_GET
def alert_detail(request, pk):
    alert = alerts.alert_get_for_user(request.user, pk)
    return _detail(request, alert)


@require_POST
def alert_record(request, pk):
    alert = alerts.alert_get_for_user(request.user, pk, write=True)
    form = AlertRecordForm(request.POST)
    if not form.is_valid():
        return _detail(request, alert, form=form, status=422)
    data = form.cleaned_data
    try:
        alerts.alert_record(
            alert=alert,
            by=request.user,
            action=data["action"],
            notes=data["notes"],
            outcome=data["outcome"],
            seen_attempts=data["attempts"],
            called_at=data["called_at"],
            request=request,
        )
    except alerts.AlertClosed as exc:
        messages.warning(request, " ".join(exc.messages))
        return redirect("exams:alert_detail", pk=alert.pk)
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error(None, message)
        return _detail(request, alert, form=form, status=422)
    if data["action"] == alerts.NOT_REACHED:
        messages.success(request, _("The attempt is recorded; the alert stays open."))
    else:
        messages.success(request, _("The alert is closed."))
    return redirect("exams:alert_detail", pk=alert.pk)
