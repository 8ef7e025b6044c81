from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import AuditEvent, CalendarDay, Heartbeat, WorkingHours

admin.site.site_header = _("Zhongdu customer-service centre")
admin.site.site_title = _("Zhongdu administration")
admin.site.index_title = _("Hospital configuration")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the trail is append-only, so the admin offers no add, change or delete."""

    list_display = (
        "occurred_at",
        "actor_username",
        "action",
        "object_type",
        "object_id",
        "ip_address",
    )
    list_filter = ("action", "object_type")
    search_fields = ("actor_username", "object_id", "object_repr")
    date_hierarchy = "occurred_at"
    list_select_related = ("actor",)
    show_full_result_count = False  # no COUNT(*) over the whole trail

    def get_urls(self):
        # Drop the add and delete pages: they could only ever answer 403.
        return [
            url for url in super().get_urls() if not (url.name or "").endswith(("_add", "_delete"))
        ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("name", "last_seen", "beats")
    readonly_fields = ("name", "last_seen", "beats")

    def has_add_permission(self, request):
        return False


from .directory import admin as directory_admin  # noqa: E402, F401  (registers the directory)


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    list_display = ["__str__", "start", "end", "weekdays"]

    def has_add_permission(self, request):
        # A singleton: the row is created on first use (WorkingHours.current()).
        return super().has_add_permission(request) and not WorkingHours.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "name", "is_working"]
    list_filter = ["is_working"]
    date_hierarchy = "date"
    search_fields = ["name"]
