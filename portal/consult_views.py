"""The person's online consultation (/my/consult/): their threads, a new question, one thread,
its photos. Always the threads of `request.patient.subject`, named by token."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from zhongdu import audit
from zhongdu.forms import new_form_key
from zhongdu.pagination import keyset_page

from . import consult_selectors as selectors
from . import consult_services as services
from .consult_forms import QuestionForm
from .services import portal_username

PAGE_SIZE = 20


def _audit_read(request, thread, what: str) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        label = {"thread": _("Online consultation %(pk)s"), "photo": _("Photo of %(pk)s")}[what] % {
            "pk": thread.pk
        }
    audit.record(
        audit.Action.VIEW,
        obj=thread,
        object_repr=label,
        username=portal_username(request.patient.client),
    )


@require_GET
def consult_list(request):
    subject = request.patient.subject
    page = keyset_page(
        selectors.threads_for_patient(subject), before=request.GET.get("before"), size=PAGE_SIZE
    )
    return render(request, "portal/consult_list.html", {"page": page})


@require_http_methods(["GET", "POST"])
def consult_new(request):
    if request.method == "GET":
        form = QuestionForm(initial={"key": new_form_key()})
        return render(request, "portal/consult_new.html", {"form": form})
    form = QuestionForm(request.POST, request.FILES)
    if form.is_valid():
        thread = services.thread_ask(
            client=request.patient.subject,
            text=form.cleaned_data["text"],
            photos=form.cleaned_data["photos"],
            key=form.cleaned_data["key"],
        )
        return redirect("portal:consult_thread", token=thread.token)
    return render(request, "portal/consult_new.html", {"form": form}, status=422)


@require_http_methods(["GET", "POST"])
def consult_thread(request, token):
    thread = selectors.thread_for_patient(request.patient.subject, token)
    form = QuestionForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.thread_write(
                thread=thread,
                text=form.cleaned_data["text"],
                photos=form.cleaned_data["photos"],
                key=form.cleaned_data["key"],
            )
            return redirect("portal:consult_thread", token=thread.token)
        except ValidationError as error:
            form.add_error(None, error)
    if request.method == "GET":
        form = QuestionForm(initial={"key": new_form_key()})
        _audit_read(request, thread, "thread")
    thread_messages = selectors.thread_messages(thread)
    services.thread_seen(thread=thread)
    context = {"thread": thread, "thread_messages": thread_messages, "form": form}
    return render(
        request, "portal/consult_thread.html", context, status=422 if form.errors else 200
    )


@never_cache
@require_GET
def consult_photo(request, token, pk):
    """A photo of the person's thread, decrypted; audited; never cached."""
    thread = selectors.thread_for_patient(request.patient.subject, token)
    return selectors.photo_response(request, thread, pk, _audit_read)
