from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from zhongdu import audit
from zhongdu.admin import ReadOnlyAdmin, ReadOnlyInline

# ClientEvent is not in the admin: it is read on the client's timeline, and the admin would ask
# for a delete permission on it before deleting a client.
from .models import (
    Client,
    ClientMerge,
    Complaint,
    ComplaintDeadline,
    ComplaintEvent,
    Referral,
    ReferralEvent,
)


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    """View and delete only: clients are registered and edited in the application, where the
    services keep search tokens, encryption, events and the audit trail right. Deleting is for
    administrators (the role's permissions) and is audited."""

    list_display = ("id", "name", "phone_masked", "id_number_masked", "status", "created_at")
    list_filter = ("status", "is_patient", "is_member", "is_exam_client", "is_vip")
    search_fields = ("name", "phone_last4")
    show_full_result_count = False
    fields = (
        "name",
        "sex",
        "date_of_birth",
        "phone_masked",
        "id_number_masked",
        "status",
        "merged_into",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    @admin.display(description=_("mobile phone"))
    def phone_masked(self, obj):
        return obj.phone_masked

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        audit.record(audit.Action.DELETE, obj=obj, request=request)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            audit.record(audit.Action.DELETE, obj=obj, request=request)
        super().delete_queryset(request, queryset)


@admin.register(ClientMerge)
class ClientMergeAdmin(ReadOnlyAdmin):
    list_display = ("id", "survivor", "merged", "merged_at", "merged_by", "undone_at")


@admin.register(ComplaintDeadline)
class ComplaintDeadlineAdmin(admin.ModelAdmin):
    """Working hours to acknowledge and to resolve a complaint, and when to warn its handler: one
    row per severity (a severity without a row uses clientmgmt.complaints.DEFAULT_DEADLINES).
    A changed deadline applies to complaints received from then on."""

    list_display = ("severity", "acknowledge_hours", "resolve_hours", "warn_hours")
    list_editable = ("acknowledge_hours", "resolve_hours", "warn_hours")

    def has_add_permission(self, request):
        # Every severity has its row: there is nothing left to add, only to edit.
        missing = ComplaintDeadline.objects.count() < len(Complaint.Severity.values)
        return missing and super().has_add_permission(request)


class ComplaintEventInline(ReadOnlyInline):
    model = ComplaintEvent
    fields = ("at", "action", "from_status", "to_status", "detail", "actor")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyAdmin):
    """Read-only, with its history: complaints are recorded and worked on their own pages, where
    the workflow keeps the steps, the deadlines and the audit trail right."""

    list_display = ("id", "client", "category", "severity", "status", "handler", "received_at")
    list_filter = ("status", "severity", "category")
    list_select_related = ("client", "handler")
    search_fields = ("=id", "client__name", "person_concerned")
    date_hierarchy = "received_at"
    show_full_result_count = False
    inlines = [ComplaintEventInline]
    readonly_fields = [field.name for field in Complaint._meta.fields if field.name not in ("id",)]


class ReferralEventInline(ReadOnlyInline):
    model = ReferralEvent
    fields = ("at", "from_status", "to_status", "note", "actor")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    """Read-only, with its history: referrals are recorded and moved on the client page, the
    referral list and the consultation desk's queue, whose service keeps their steps."""

    list_display = ("id", "client", "source", "referrer", "status", "created_by", "created_at")
    list_filter = ("status", "source")
    list_select_related = ("client", "created_by")
    search_fields = ("=id", "client__name", "referrer")
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [ReferralEventInline]
    readonly_fields = [field.name for field in Referral._meta.fields if field.name != "id"]
