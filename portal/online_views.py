"""The consultation desk's side of the online consultation (/consult/online/): the inbox,
a thread with its answer form and quick replies, taking and assigning, closing, and turning a
thread into a booking. Every thread through selectors.thread_get_for_user (the client access
helper and the discretion rule); every read and change audited."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhongdu import audit
from zhongdu.forms import error_text, new_form_key
from zhongdu.models import KnowledgeArticle
from zhongdu.pagination import keyset_page
from zhongdu.roles import user_may_open

from . import consult_selectors as selectors
from . import consult_services as services
from .consult_forms import AnswerForm, AssignForm

PAGE_SIZE = 30
QUICK_REPLIES = 30


def _audit_read(request, thread, what: str) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        label = {"thread": _("Online consultation %(pk)s"), "photo": _("Photo of %(pk)s")}[what] % {
            "pk": thread.pk
        }
    audit.record(audit.Action.VIEW, obj=thread, object_repr=label, request=request)


@require_GET
def inbox(request):
    tab = request.GET.get("tab", "waiting")
    tab = tab if tab in selectors.INBOX_TABS else "waiting"
    threads = selectors.inbox(request.user, tab)
    page = keyset_page(threads, before=request.GET.get("before"), size=PAGE_SIZE)
    context = {
        "tab": tab,
        "tabs": [
            ("waiting", _("Waiting")),
            ("mine", _("Assigned to me")),
            ("answered", pgettext("consultations", "Answered")),
            ("closed", pgettext("consultations", "Closed")),
        ],
        "page": page,
        "rows": selectors.inbox_rows(request.user, page.items),
        "figures": selectors.inbox_figures(),
        "hours": settings.ONLINE_CONSULT_ANSWER_HOURS,
    }
    return render(request, "portal/online_inbox.html", context)


def _thread_page(request, thread, *, answer=None, status=200):
    articles = KnowledgeArticle.objects.filter(active=True).order_by("topic", "title")
    if answer is None:
        # A quick reply (?reply=<article>): the answer form starts from the article's text, for
        # the consultant to adapt before sending.
        reply = request.GET.get("reply", "")
        article = articles.filter(pk=reply).first() if reply.isdigit() else None
        initial = {"key": new_form_key(), "text": article.body if article else ""}
        answer = AnswerForm(initial=initial)
    context = {
        "thread": thread,
        "client": selectors.clients_shown_for_user(request.user, [thread.client])[0],
        "thread_messages": selectors.thread_messages(thread),
        "events": thread.events.select_related("by").order_by("-at", "-pk"),
        "answer": answer,
        "assign": AssignForm(consultants=selectors.consultants()),
        "articles": articles[:QUICK_REPLIES],
        "late": thread.is_late(),
        "may_book": user_may_open(request.user, "consult:booking_new"),
    }
    return render(request, "portal/online_thread.html", context, status=status)


@require_GET
def thread(request, pk):
    found = selectors.thread_get_for_user(request.user, pk)
    _audit_read(request, found, "thread")
    return _thread_page(request, found)


@require_POST
def answer(request, pk):
    found = selectors.thread_get_for_user(request.user, pk)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.thread_answer(
                thread=found,
                text=form.cleaned_data["text"],
                by=request.user,
                key=form.cleaned_data["key"],
            )
            messages.success(request, _("The answer is sent; the person is told by SMS."))
            return redirect("online:thread", pk=found.pk)
        except ValidationError as error:
            form.add_error(None, error)
    return _thread_page(request, found, answer=form, status=422)


def _change(request, thread, change, done: str):
    try:
        change()
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, done)
    return redirect("online:thread", pk=thread.pk)


@require_POST
def take(request, pk):
    found = selectors.thread_get_for_user(request.user, pk)
    return _change(
        request,
        found,
        lambda: services.thread_assign(thread=found, to=request.user, by=request.user),
        _("The consultation is yours."),
    )


@require_POST
def assign(request, pk):
    found = selectors.thread_get_for_user(request.user, pk)
    form = AssignForm(request.POST, consultants=selectors.consultants())
    if not form.is_valid():
        messages.error(request, _("Choose a consultant."))
        return redirect("online:thread", pk=found.pk)
    to = form.cleaned_data["user"]
    return _change(
        request,
        found,
        lambda: services.thread_assign(thread=found, to=to, by=request.user),
        _("The consultation is assigned."),
    )


@require_POST
def close(request, pk):
    found = selectors.thread_get_for_user(request.user, pk)
    return _change(
        request,
        found,
        lambda: services.thread_close(thread=found, by=request.user),
        _("The consultation is closed."),
    )


@require_POST
def book(request, pk):
    """Turn the thread into a booking: recorded on the thread, then the desk's booking form
    for its client."""
    found = selectors.thread_get_for_user(request.user, pk)
    services.thread_booking_started(thread=found, by=request.user)
    return redirect(reverse("consult:booking_new") + "?" + urlencode({"client": found.client.pk}))


@never_cache
@require_http_methods(["GET"])
def photo(request, pk, photo_pk):
    found = selectors.thread_get_for_user(request.user, pk)
    return selectors.photo_response(request, found, photo_pk, _audit_read)
