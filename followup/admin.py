# Admin of Follow-up: where administrators configure what this department uses (care-plan
# templates with their default timepoints, the follow-up policy) and look up what was done.
# Calls and plans are worked on the workbench and the plan pages, whose services keep the
# timepoints' calls and SMS, the call history and the audit trail right: here they are read-only
# (a call's subject and script may be corrected). Phone numbers only ever appear masked. The survey
# engine's models are registered in surveys/admin.py.
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from zhongdu import phones
from zhongdu.admin import PolicyAdmin, ReadOnlyAdmin, ReadOnlyInline

from .models import (
    CallAttempt,
    CarePlan,
    CarePlanStep,
    CarePlanTemplate,
    CarePlanTemplateStep,
    FollowUpCall,
    FollowUpPolicy,
)


class ClientPhoneMixin:
    @admin.display(description=_("phone"))
    def masked_phone(self, obj):
        return phones.mask(obj.client.phone)


# --- Configuration ------------------------------------------------------------------


@admin.register(FollowUpPolicy)
class FollowUpPolicyAdmin(PolicyAdmin):
    list_display = ["__str__", "max_attempts"]


class CarePlanTemplateStepInline(admin.TabularInline):
    model = CarePlanTemplateStep
    fields = ["day_offset", "label", "call", "script", "sms_template"]
    extra = 1


@admin.register(CarePlanTemplate)
class CarePlanTemplateAdmin(admin.ModelAdmin):
    """Plans per department or procedure: the advice staff start from and the default
    timepoints (days after the visit), each a call and/or an SMS. Plans already written keep
    their own copy."""

    list_display = ["name", "kind", "department", "active"]
    list_filter = ["kind", "active", "department"]
    list_select_related = ["department"]
    search_fields = ["name"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "department", "active"]}),
        (_("After-care advice"), {"fields": ["treatment_plan", "diet", "rehab", "lifestyle"]}),
        (
            _("Health management (plans after an exam)"),
            {"fields": ["exercise", "mental_health", "prevention", "sub_health", "insurance"]},
        ),
    ]
    inlines = [CarePlanTemplateStepInline]


# --- Calls --------------------------------------------------------------------------


class CallAttemptInline(ReadOnlyInline):
    model = CallAttempt
    fields = ["at", "outcome", "detail", "actor"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(FollowUpCall)
class FollowUpCallAdmin(ClientPhoneMixin, admin.ModelAdmin):
    """Read-mostly: calls are claimed, reassigned and recorded on the workbench, whose services
    keep their history; here only the subject and the script can be corrected."""

    list_display = [
        "id",
        "due_on",
        "client",
        "masked_phone",
        "reason",
        "status",
        "outcome",
        "attempts",
        "assigned_to",
    ]
    list_filter = ["status", "reason", ("assigned_to", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["client", "assigned_to"]
    search_fields = ["=id", "client__name", "title"]
    date_hierarchy = "due_on"
    show_full_result_count = False
    inlines = [CallAttemptInline]

    def get_readonly_fields(self, request, obj=None):
        return [
            field.name for field in self.model._meta.fields if field.name not in ("title", "script")
        ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Care plans ---------------------------------------------------------------------


class CarePlanStepInline(ReadOnlyInline):
    model = CarePlanStep
    fields = ["due_on", "label", "call", "sms_template", "status"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("sms_template")


@admin.register(CarePlan)
class CarePlanAdmin(ClientPhoneMixin, ReadOnlyAdmin):
    """Read-only: plans are written, changed and cancelled on the plan pages."""

    list_display = ["id", "client", "masked_phone", "kind", "template", "status", "created_at"]
    list_filter = ["status", "kind", "template"]
    list_select_related = ["client", "template"]
    search_fields = ["=id", "client__name"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [CarePlanStepInline]
