from django import forms
from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from zhongdu import audit, phones
from zhongdu.admin import PolicyAdmin
from zhongdu.models import HospitalProfile

from .models import (
    PLACEHOLDERS,
    Approval,
    Campaign,
    Channel,
    PhoneOptOut,
    SmsRoutePolicy,
    SmsTemplate,
    sms_segments,
)


class SmsTemplateForm(forms.ModelForm):
    class Meta:
        model = SmsTemplate
        fields = [
            "code",
            "language",
            "purpose",
            "kind",
            "channel",
            "body",
            "active",
            "provider_code",
            "approval",
        ]
        widgets = {"body": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Left out of a post (a script written before voice templates), it stays what it was.
        self.fields["channel"].required = False

    def clean(self):
        cleaned = super().clean()
        # A changed text is not the text the provider approved: it waits for approval again,
        # unless the administrator records the new approval in the same save.
        if (
            self.instance.pk
            and "body" in self.changed_data
            and "approval" not in self.changed_data
            and cleaned.get("approval") == Approval.APPROVED
        ):
            cleaned["approval"] = Approval.PENDING
        return cleaned


@admin.register(SmsTemplate)
class SmsTemplateAdmin(admin.ModelAdmin):
    form = SmsTemplateForm
    list_display = (
        "code",
        "language",
        "purpose",
        "kind",
        "channel",
        "length",
        "active",
        "approval",
    )
    list_filter = ("purpose", "kind", "channel", "language", "active", "approval")
    search_fields = ("code", "body")
    readonly_fields = ("preview",)

    @admin.display(description=_("length"))
    def length(self, obj):
        characters, segments = sms_segments(obj.body)
        if obj.channel == Channel.VOICE:  # read out: no SMS segments
            return _("%(chars)s characters") % {"chars": characters}
        return _("%(chars)s characters, %(segments)s SMS") % {
            "chars": characters,
            "segments": segments,
        }

    @admin.display(description=_("preview"))
    def preview(self, obj):
        if not obj.pk:
            return _("Save to see the preview.")
        sample = {key: f"[{label}]" for key, label in PLACEHOLDERS.items()}
        sample.update(name="张伟", date="2026-12-01", time="09:30", department="皮肤科")
        # The hospital's own values as its profile has them now.
        sample.update(
            (key, value)
            for key, value in HospitalProfile.current().placeholder_values().items()
            if value
        )
        text = obj.render(sample)
        characters, segments = sms_segments(text)
        return format_html(
            "<p>{}</p><p>{}</p>",
            text,
            _("%(chars)s characters, %(segments)s SMS (70 per SMS in Chinese, 67 when split)")
            % {"chars": characters, "segments": segments},
        )


@admin.register(PhoneOptOut)
class PhoneOptOutAdmin(admin.ModelAdmin):
    list_display = ("masked", "at", "source")
    search_fields = ("=phone",)  # exact number only

    @admin.display(description=_("number"))
    def masked(self, obj):
        return phones.mask(obj.phone)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "template", "send_at", "status", "total", "built")
    readonly_fields = ("status", "total", "built", "segment", "created_by", "created_at")

    def has_add_permission(self, request):
        return False  # campaigns are created on the campaign page, which counts recipients


@admin.register(SmsRoutePolicy)
class SmsRoutePolicyAdmin(PolicyAdmin):
    """Add-only: enabling (or ending) the cross-border route is a new version, with who, when
    and the legal basis; the newest is in force (messaging.rules.cross_border_allowed)."""

    list_display = ["__str__", "mainland_via_twilio", "created_by", "created_at", "note"]
    list_select_related = ["created_by"]
    fields = ["mainland_via_twilio", "legal_basis", "note"]

    def get_fields(self, request, obj=None):
        if obj is not None:
            return [*self.fields, "created_by", "created_at"]
        return self.fields

    def save_model(self, request, obj, form, change):
        obj.created_by = request.user
        super().save_model(request, obj, form, change)
        audit.record(
            audit.Action.CREATE,
            obj=obj,
            fields=["mainland_via_twilio", "legal_basis"],
            request=request,
        )
