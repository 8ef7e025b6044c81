from django.contrib import admin

from zhongdu.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import Referral, ReferralEvent


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
