from django.contrib import admin

from .models import Referral, ReferralEvent


class ReferralEventInline(admin.TabularInline):
    model = ReferralEvent
    fields = ("at", "from_status", "to_status", "note", "actor")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
