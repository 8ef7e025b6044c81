from django.contrib import admin

from zhongdu.admin import ReadOnlyAdmin

from .models import Event


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    """Read-only: events are created, invited to and taken at the door on the event pages, whose
    services keep the channel, the capacity and the invitations once each."""

    list_display = ["id", "title", "kind", "starts_at", "place", "capacity", "vip_only", "channel"]
    list_filter = ["kind", "vip_only"]
    list_select_related = ["channel"]
    search_fields = ["=id", "title", "place"]
    date_hierarchy = "starts_at"
    show_full_result_count = False
