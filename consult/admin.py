# Admin of Consultation desk: where administrators configure what this department uses.
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from zhongdu import phones
from zhongdu.admin import PolicyAdmin, ReadOnlyAdmin, ReadOnlyInline

from .models import Booking, BookingEvent, BookingPolicy, Enquiry, Recall


@admin.register(BookingPolicy)
class BookingPolicyAdmin(PolicyAdmin):
    list_display = ["__str__", "vip_share_percent"]


class BookingEventInline(ReadOnlyInline):
    model = BookingEvent
    fields = ["at", "action", "from_status", "to_status", "from_session", "to_session", "detail"]
    readonly_fields = fields


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    """Read-mostly: bookings are made, moved and cancelled on the booking pages, whose services
    keep the session counts and SMS right; here only the note can be corrected."""

    list_display = ["id", "client", "session", "kind", "status", "priority", "created_at"]
    list_filter = ["status", "kind", "priority", "session__department"]
    list_select_related = ["client", "session__expert", "session__department"]
    date_hierarchy = "created_at"
    search_fields = ["=id", "client__name"]
    readonly_fields = [
        "client",
        "session",
        "kind",
        "status",
        "priority",
        "cancel_reason",
        "enquiry",
        "created_by",
        "created_at",
        "updated_at",
    ]
    inlines = [BookingEventInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Enquiry)
class EnquiryAdmin(ReadOnlyAdmin):
    """Read-only: enquiries are recorded on the call screen. Numbers are shown masked."""

    list_display = ["id", "created_at", "who", "masked_phone", "contact_channel", "outcome"]
    list_filter = ["outcome", "contact_channel", "direction", "marketing_channel", "department"]
    list_select_related = ["client", "consultant"]
    date_hierarchy = "created_at"
    search_fields = ["=id", "client__name", "prospect_name"]
    show_full_result_count = False
    exclude = ["prospect_phone"]

    @admin.display(description=_("caller"))
    def who(self, obj):
        return obj.client.name if obj.client_id else obj.prospect_name

    @admin.display(description=_("phone"))
    def masked_phone(self, obj):
        return phones.mask(obj.client.phone if obj.client_id else obj.prospect_phone)


@admin.register(Recall)
class RecallAdmin(ReadOnlyAdmin):
    """Read-only: recalls are worked on the consultants' queue."""

    list_display = ["id", "client", "booking", "status", "attempts", "next_attempt_on"]
    list_filter = ["status", "reason"]
    list_select_related = ["client", "booking"]
    search_fields = ["=id", "client__name"]
