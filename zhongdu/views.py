import logging

# The project's Celery app (config/celery.py), without importing the project from an app.
from celery import current_app as celery_app
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from . import audit
from .forms import AuditFilterForm
from .navigation import sections_for
from .pagination import keyset_page
from .roles import ROLE_LABELS, user_roles
from .selectors import audit_event_list as select_audit_events
from .selectors import notification_get_for_user, notifications_for
from .services import notifications_mark_read
from .workbench import workbench_panels

logger = logging.getLogger(__name__)


@require_GET
def home(request):
    roles = sorted(user_roles(request.user))
    context = {
        "role_labels": [ROLE_LABELS[role] for role in roles],
        "sections": sections_for(request.user),
        "panels": workbench_panels(request),
    }
    return render(request, "zhongdu/home.html", context)


@require_GET
def audit_event_list(request):
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        events = select_audit_events().none()  # show the errors, not an unfiltered list
    else:
        events = select_audit_events(filters=form.cleaned_data if form.is_bound else None)
    page = keyset_page(events, before=request.GET.get("before"))
    for event in page.items:
        event.object_label = audit.object_type_label(event.object_type)
        event.actor_label = audit.actor_label(event.actor_username)
        event.field_labels = audit.changed_field_labels(event.object_type, event.changed_fields)
        event.description = audit.describe(event.object_repr)
        # A refused page: its address says more than its URL name.
        event.number = "" if event.object_type == "url" and event.object_repr else event.object_id
    query = request.GET.copy()
    query.pop("before", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "zhongdu/audit_event_list.html", context)


@require_GET
def notifications(request):
    page = keyset_page(notifications_for(request.user), before=request.GET.get("before"))
    return render(request, "zhongdu/notifications.html", {"page": page})


@require_POST
def notifications_read(request):
    """Mark all read, or one (`pk`) and follow its link: the list's links are this form's
    buttons, so opening a notification is what marks it read."""
    if "pk" not in request.POST:
        notifications_mark_read(user=request.user)
        return redirect("notifications")
    notification = notification_get_for_user(request.user, request.POST["pk"])
    if notification is None:  # someone else's, or none: nothing to mark
        return redirect("notifications")
    notifications_mark_read(user=request.user, pk=notification.pk)
    url = notification.url
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return redirect(url)
    return redirect("notifications")


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.exception("healthz: database check failed")
        return False


def _broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0, timeout=2)
        return True
    except Exception:
        logger.exception("healthz: broker check failed")
        return False


@never_cache
@require_GET
def healthz(request):
    # Only states: no versions, hosts or error texts (those go to the log).
    checks = {
        "database": "ok" if _database_ok() else "error",
        "broker": "ok" if _broker_ok() else "error",
    }
    healthy = all(state == "ok" for state in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503
    )
