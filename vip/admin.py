# Admin of VIP: where administrators set the policy (认定标准 with its [X] filled in) and keep the
# enterprise accounts' basics. A policy version is never changed or deleted: "add" makes a new
# version (prefilled from the one in force) through services.policy_add, so the share of clinic
# places held for VIPs reaches the booking rules at once. Standings, candidates and the history
# are written by the VIP pages and the nightly qualification: here they are read-only. Phone
# numbers only ever appear masked in the lists.
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from zhongdu import phones
from zhongdu.admin import PolicyAdmin, ReadOnlyAdmin

from . import services
from .forms import EnterpriseForm
from .models import Enterprise, EnterpriseMember, VipCandidate, VipEvent, VipPolicy, VipStanding

POLICY_FIELDS = [
    "personal_annual_spend",
    "gold_spend",
    "platinum_spend",
    "enterprise_annual_spend",
    "enterprise_min_employees",
    "enterprise_min_revenue",
    "window",
    "auto_grant",
    "grace_days",
    "vip_share_percent",
    "followup_interval_days",
]


class ClientPhoneMixin:
    @admin.display(description=_("phone"))
    def masked_phone(self, obj):
        return phones.mask(obj.client.phone) if obj.client_id else ""


# --- The policy -----------------------------------------------------------------------


class VipPolicyForm(forms.ModelForm):
    class Meta:
        model = VipPolicy
        fields = [*POLICY_FIELDS, "note"]

    def clean(self):
        data = super().clean()
        personal, gold, platinum = (
            data.get("personal_annual_spend"),
            data.get("gold_spend"),
            data.get("platinum_spend"),
        )
        if None not in (personal, gold, platinum) and not personal <= gold <= platinum:
            # On the field, so the model's own check constraint (which says the same in technical
            # words) is not run a second time.
            self.add_error("gold_spend", _("The tiers must rise: VIP ≤ gold ≤ platinum."))
        share = data.get("vip_share_percent")
        if share is not None and share > 100:
            self.add_error("vip_share_percent", _("The held share is a percentage from 0 to 100."))
        return data


@admin.register(VipPolicy)
class VipPolicyAdmin(PolicyAdmin):
    """Add-only: each save is a new version; the newest is in force."""

    form = VipPolicyForm
    list_display = [
        "__str__",
        "created_by",
        "created_at",
        "note",
        "personal_annual_spend",
        "gold_spend",
        "platinum_spend",
        "enterprise_annual_spend",
        "enterprise_min_employees",
        "enterprise_min_revenue",
        "window",
        "auto_grant",
        "grace_days",
        "vip_share_percent",
    ]
    list_select_related = ["created_by"]
    fieldsets = [
        (
            _("Personal VIP"),
            {"fields": ["personal_annual_spend", "gold_spend", "platinum_spend"]},
        ),
        (
            _("Enterprise VIP"),
            {
                "fields": [
                    "enterprise_annual_spend",
                    "enterprise_min_employees",
                    "enterprise_min_revenue",
                ]
            },
        ),
        (
            _("Qualification"),
            {"fields": ["window", "auto_grant", "grace_days"]},
        ),
        (
            _("VIP service"),
            {"fields": ["vip_share_percent", "followup_interval_days"]},
        ),
        (None, {"fields": ["note"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        if obj is not None:  # a version looked at: everything, who and when included
            return [(None, {"fields": [*POLICY_FIELDS, "note", "created_by", "created_at"]})]
        return super().get_fieldsets(request, obj)

    def get_changeform_initial_data(self, request):
        # A new version starts as the one in force: the administrator changes what changes.
        current = VipPolicy.current()
        return {name: getattr(current, name) for name in POLICY_FIELDS}

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in POLICY_FIELDS}
        try:
            policy = services.policy_add(by=request.user, note=form.cleaned_data["note"], **data)
        except ValidationError as exc:  # the form checks the same; a race changes nothing
            raise ValidationError(exc.messages) from None
        # The admin goes on with `obj` (its message, the log entry, the redirect): make it the
        # version the service saved.
        obj.pk, obj.created_by, obj.created_at = policy.pk, policy.created_by, policy.created_at
        obj._state.adding, obj._state.db = False, policy._state.db


# --- Enterprises ----------------------------------------------------------------------


class EnterpriseAdminForm(EnterpriseForm):
    """The pages' form (the name, the dates and the phone checked), without their layout."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.helper


class EnterpriseMemberInline(admin.TabularInline):
    model = EnterpriseMember
    fields = ["client", "masked_phone", "added_by", "added_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False  # removal ends standings held through the enterprise: on the VIP pages

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("phone"))
    def masked_phone(self, obj):
        return phones.mask(obj.client.phone)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("client", "added_by", "enterprise")


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    """The basics are edited here or on the VIP pages; whether the enterprise is a VIP is the
    qualification's (read-only)."""

    form = EnterpriseAdminForm
    list_display = [
        "name",
        "agreement_number",
        "agreement_start",
        "agreement_end",
        "employee_count",
        "contact_name",
        "masked_contact_phone",
        "is_vip",
        "vip_until",
        "active",
    ]
    list_filter = ["is_vip", "active"]
    search_fields = ["name", "agreement_number"]
    readonly_fields = ["is_vip", "vip_until", "policy", "created_at"]
    inlines = [EnterpriseMemberInline]

    def has_delete_permission(self, request, obj=None):
        # An enterprise with a history is ended (active off), never deleted.
        return False

    def save_model(self, request, obj, form, change):
        # Through the services, like the pages: the same checks and the audit trail.
        data = form.service_data()
        if change:
            saved = services.enterprise_update(
                enterprise=Enterprise.objects.get(pk=obj.pk),
                data=data,
                by=request.user,
                request=request,
            )
        else:
            saved = services.enterprise_create(data=data, by=request.user, request=request)
        obj.pk, obj._state.adding, obj._state.db = saved.pk, False, saved._state.db

    @admin.display(description=_("contact phone"))
    def masked_contact_phone(self, obj):
        return phones.mask(obj.contact_phone)


# --- Read-only records ------------------------------------------------------------------


@admin.register(VipStanding)
class VipStandingAdmin(ClientPhoneMixin, ReadOnlyAdmin):
    list_display = [
        "client",
        "masked_phone",
        "kind",
        "tier",
        "status",
        "since",
        "valid_until",
        "spend",
        "enterprise",
        "escort",
        "policy",
    ]
    list_filter = ["status", "kind", "tier"]
    list_select_related = ["client", "enterprise", "escort", "policy"]
    search_fields = ["client__name"]
    show_full_result_count = False


@admin.register(VipCandidate)
class VipCandidateAdmin(ClientPhoneMixin, ReadOnlyAdmin):
    list_display = [
        "created_at",
        "kind",
        "client",
        "masked_phone",
        "enterprise",
        "spend",
        "status",
        "nominated_by",
        "decided_by",
        "decided_at",
    ]
    list_filter = ["status", "kind"]
    list_select_related = ["client", "enterprise", "nominated_by", "decided_by"]
    search_fields = ["client__name", "enterprise__name"]
    date_hierarchy = "created_at"


@admin.register(VipEvent)
class VipEventAdmin(ClientPhoneMixin, ReadOnlyAdmin):
    list_display = [
        "at",
        "action",
        "client",
        "masked_phone",
        "enterprise",
        "by_rule",
        "actor",
        "policy",
        "spend",
        "detail",
    ]
    list_filter = ["action", "by_rule"]
    list_select_related = ["client", "enterprise", "actor", "policy"]
    search_fields = ["client__name", "enterprise__name"]
    date_hierarchy = "at"
    show_full_result_count = False
