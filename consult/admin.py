# Admin of Consultation desk: where administrators configure what this department uses.
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from zhongdu import phones

from .models import Booking, BookingEvent, BookingPolicy, Enquiry, Recall


@admin.register(BookingPolicy)
class BookingPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "vip_share_percent"]

    def has_add_permission(self, request):
        # A singleton: the row is created on first use (BookingPolicy.current()).
        return super().has_add_permission(request) and not BookingPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


class BookingEventInline(admin.TabularInline):
    model = BookingEvent
    fields = ["at", "action", "from_status", "to_status", "from_session", "to_session", "detail"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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
class EnquiryAdmin(admin.ModelAdmin):
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

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields if field.name != "prospect_phone"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Recall)
class RecallAdmin(admin.ModelAdmin):
    """Read-only: recalls are worked on the consultants' queue."""

    list_display = ["id", "client", "booking", "status", "attempts", "next_attempt_on"]
    list_filter = ["status", "reason"]
    list_select_related = ["client", "booking"]
    search_fields = ["=id", "client__name"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
