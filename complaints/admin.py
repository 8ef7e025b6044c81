from django.contrib import admin

from zhongdu.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import Complaint, ComplaintDeadline, ComplaintEvent


@admin.register(ComplaintDeadline)
class ComplaintDeadlineAdmin(admin.ModelAdmin):
    """Working hours to acknowledge and to resolve a complaint, and when to warn its handler: one
    row per severity (a severity without a row uses complaints.services.DEFAULT_DEADLINES).
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
