from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhongdu import phones
from zhongdu.forms import error_text, new_form_key
from zhongdu.pagination import keyset_page
from zhongdu.roles import user_may_open

from . import selectors, services
from .forms import CampaignForm, OutboxFilterForm
from .models import Campaign, OutboxMessage


@require_GET
def outbox_list(request):
    form = OutboxFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        page = keyset_page(OutboxMessage.objects.none(), before=None)
    else:
        page = selectors.outbox_page_for_user(
            request.user,
            filters=form.cleaned_data if form.is_bound else None,
            before=request.GET.get("before"),
        )
    query = request.GET.copy()
    query.pop("before", None)
    context = {"form": form, "page": page, "query": query.urlencode(), "attention": False}
    return render(request, "messaging/outbox_list.html", context)


@require_GET
def outbox_attention(request):
    page = selectors.outbox_page_for_user(
        request.user, attention=True, before=request.GET.get("before")
    )
    return render(
        request, "messaging/outbox_list.html", {"page": page, "query": "", "attention": True}
    )


@require_GET
def message_detail(request, pk):
    message = selectors.message_get_for_user(request.user, pk)
    events = message.events.select_related("actor").order_by("at", "pk")
    context = {
        "message": message,
        "events": events,
        "masked_to": phones.mask(message.to),
        "can_act": user_may_open(request.user, "messaging:message_retry"),
    }
    return render(request, "messaging/message_detail.html", context)


@require_POST
def message_retry(request, pk):
    message = get_object_or_404(OutboxMessage.objects.select_related("client"), pk=pk)
    try:
        services.outbox_retry(message=message, by=request.user)
        messages.success(request, _("The message will be sent again."))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect(message)


@require_POST
def message_release(request, pk):
    message = get_object_or_404(OutboxMessage, pk=pk)
    try:
        services.outbox_release(message=message, by=request.user)
        messages.success(request, _("Nothing holds the message now: it will be sent."))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect(message)


@require_POST
def message_mark_sent(request, pk):
    message = get_object_or_404(OutboxMessage, pk=pk)
    try:
        services.outbox_mark_sent(message=message, by=request.user)
        messages.success(request, _("Recorded as sent."))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect(message)


@require_GET
def outbox_figures(request):
    return render(request, "messaging/figures.html", {"rows": selectors.outbox_figures()})


@require_GET
def campaign_list(request):
    campaigns = Campaign.objects.select_related("template", "created_by").order_by("-pk")[:100]
    return render(request, "messaging/campaign_list.html", {"campaigns": campaigns})


@require_http_methods(["GET", "POST"])
def campaign_create(request):
    form = CampaignForm(request.POST or None, initial={"key": new_form_key()})
    recipients = breakdown = None
    if request.method == "POST" and form.is_valid():
        template = form.cleaned_data["template"]
        recipients = selectors.campaign_recipients(form.segment(), template.kind).count()
        breakdown = selectors.audience_breakdown(
            selectors.campaign_segment(form.segment()),
            template=template,
            template_code=template.code,
            at=form.cleaned_data["send_at"],
        )
        if request.POST.get("confirm") == "yes":
            campaign = services.campaign_create(
                name=form.cleaned_data["name"],
                template=template,
                segment=form.segment(),
                send_at=form.cleaned_data["send_at"],
                by=request.user,
                request_key=form.cleaned_data["key"],
            )
            return redirect(campaign)
    context = {"form": form, "recipients": recipients, "breakdown": breakdown}
    return render(request, "messaging/campaign_form.html", context)


@require_GET
def campaign_detail(request, pk):
    campaign = get_object_or_404(Campaign.objects.select_related("template"), pk=pk)
    context = {
        "campaign": campaign,
        "counts": selectors.campaign_counts(campaign),
        "outcomes": selectors.outbox_outcomes(campaign.messages.all()),
    }
    template = (
        "messaging/_campaign_progress.html" if request.htmx else "messaging/campaign_detail.html"
    )
    return render(request, template, context)
