# Views of the exam orders (体检单): decorators, an access-checked fetch, a form, one service call,
# redirect or render. Ticking an examination off answers htmx with the table row it replaces.
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clientmgmt.selectors import client_get_for_user
from zhongdu.forms import error_text, new_form_key
from zhongdu.pagination import keyset_page
from zhongdu.roles import user_may_open

from . import selectors, services
from .card_forms import (
    AWAITING,
    ExamCancelForm,
    ExamCompleteForm,
    ExamFilterForm,
    ExamItemDoneForm,
    ExamOrderForm,
)
from .models import ExamOrder, ExamOrderItem


def _conflict_or_invalid(exc) -> int:
    """409 when the order is no longer open; 422 for what the user can put right."""
    return 409 if isinstance(exc, services.IllegalTransition) else 422


def _orders(status):
    if status == AWAITING:
        awaiting = selectors.exam_orders_awaiting_assessment().values("pk")
        return selectors.exam_list(status="").filter(pk__in=awaiting)
    return selectors.exam_list(status="" if status == "all" else status)


@require_GET
def exam_list(request):
    form = ExamFilterForm(request.GET or None, initial={"status": ExamOrder.Status.OPEN})
    status = (form.cleaned_data["status"] if form.is_valid() else "") or ExamOrder.Status.OPEN
    # Newest first. ordered_at is the creation time and never changes, so id order is the same
    # order, and keyset pagination pages by id.
    page = keyset_page(_orders(status).order_by("-pk"), before=request.GET.get("before"))
    query = request.GET.copy()
    query.pop("before", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "can_order": user_may_open(request.user, "guide:exam_new"),
    }
    return render(request, "guide/exam_list.html", context)


def _new_page(request, client, visit, form, status=200):
    context = {"client": client, "visit": visit, "form": form}
    return render(request, "guide/exam_new.html", context, status=status)


@require_http_methods(["GET", "POST"])
def exam_new(request):
    if not request.GET.get("client"):
        return render(request, "guide/exam_new.html", {"client": None})
    client = client_get_for_user(request.user, request.GET["client"], write=True)
    # Opened from a visit, the order is charged to it: only those who may charge visits.
    visit = (
        selectors.visit_get_for_user(request.user, request.GET["visit"], write=True)
        if request.GET.get("visit")
        else None
    )
    if request.method == "GET":
        return _new_page(request, client, visit, ExamOrderForm(initial={"key": new_form_key()}))
    form = ExamOrderForm(request.POST)
    if not form.is_valid():
        return _new_page(request, client, visit, form, status=422)
    try:
        order = services.exam_order_create(
            client=client,
            package=form.cleaned_data["package"],
            items=form.cleaned_data["items"],
            visit=visit,
            by=request.user,
            request=request,
            request_key=form.cleaned_data["key"],
        )
    except ValidationError as exc:
        form.add_error(None, exc)
        return _new_page(request, client, visit, form, status=422)
    messages.success(request, _("Exam order created. Tick the examinations off as they are done."))
    return redirect(order)


def _detail_page(request, order, *, complete_form=None, cancel_form=None, errors=(), status=200):
    may_write = user_may_open(request.user, "guide:exam_complete")
    items = list(selectors.exam_items(order))
    context = {
        "order": order,
        "items": items,
        "done": sum(item.done_at is not None for item in items),
        "can_change": may_write and order.status == ExamOrder.Status.OPEN,
        "awaiting_assessment": order.status == ExamOrder.Status.COMPLETED
        and order.assessment_started_at is None,
        "complete_form": complete_form or ExamCompleteForm(),
        "cancel_form": cancel_form or ExamCancelForm(),
        "errors": errors,
        # Results: the desk sees whether they are ready, never the values; their readers get
        # the link to the results page (exams), which applies its own access checks.
        "results_state": selectors.exam_results_state(order),
        "may_read_results": user_may_open(request.user, "exams:results"),
    }
    return render(request, "guide/exam_detail.html", context, status=status)


@require_GET
def exam_detail(request, pk):
    order = selectors.exam_get_for_user(request.user, pk)
    return _detail_page(request, order)


def _item_for_user(user, pk) -> ExamOrderItem:
    """An examination of an order, with the order's access check (write: ticking is a change)."""
    item = ExamOrderItem.objects.filter(pk=pk).select_related("price_item", "done_by").first()
    if item is None:
        raise Http404
    item.order = selectors.exam_get_for_user(user, item.order_id, write=True)
    return item


def _item_refused(request, order, message, status):
    messages.error(request, message)
    if request.htmx:
        # htmx swaps no error answer: it sends the browser to the order page, fresh, where the
        # message is shown.
        return HttpResponse(status=status, headers={"HX-Redirect": order.get_absolute_url()})
    return redirect(order)


@require_POST
def exam_item_done(request, pk):
    item = _item_for_user(request.user, pk)
    order = item.order
    form = ExamItemDoneForm(request.POST)
    if not form.is_valid():
        return _item_refused(request, order, _("Say whether the examination is done."), 422)
    try:
        item = services.exam_item_set_done(
            item=item, done=form.cleaned_data["done"], by=request.user
        )
    except ValidationError as exc:
        status = _conflict_or_invalid(exc)
        return _item_refused(request, order, error_text(exc), status)
    if request.htmx:
        # The row, and the order's progress counter out of band, so "3/5" stays true.
        progress = order.items.aggregate(
            done=Count("pk", filter=Q(done_at__isnull=False)), total=Count("pk")
        )
        context = {"item": item, "can_change": True, "progress": progress}
        return render(request, "guide/_exam_item.html", context)
    return redirect(order)


@require_POST
def exam_complete(request, pk):
    order = selectors.exam_get_for_user(request.user, pk, write=True)
    form = ExamCompleteForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, order, complete_form=form, status=422)
    try:
        services.exam_order_complete(
            order=order,
            result_summary=form.cleaned_data["result_summary"],
            by=request.user,
            request=request,
        )
    except ValidationError as exc:
        order.refresh_from_db()
        status = _conflict_or_invalid(exc)
        return _detail_page(request, order, complete_form=form, errors=exc.messages, status=status)
    messages.success(request, _("The exam is complete. It now waits for the health assessment."))
    return redirect(order)


@require_POST
def exam_cancel(request, pk):
    order = selectors.exam_get_for_user(request.user, pk, write=True)
    form = ExamCancelForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, order, cancel_form=form, status=422)
    try:
        services.exam_order_cancel(
            order=order, reason=form.cleaned_data["reason"], by=request.user, request=request
        )
    except ValidationError as exc:
        order.refresh_from_db()
        status = _conflict_or_invalid(exc)
        return _detail_page(request, order, cancel_form=form, errors=exc.messages, status=status)
    messages.success(request, _("The exam order was cancelled."))
    return redirect(order)
