# Admin of Front desk: where administrators configure what this department uses (exam packages,
# triage keywords) and look up what the desk recorded. Visits, charges, cards and exam orders are
# written on the front-desk pages, whose services keep their events, the client's categories and
# the audit trail right: here they are read-only. Phone numbers only ever appear masked.
from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from zhongdu import phones
from zhongdu.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import (
    Charge,
    ChargeImport,
    DisplayScreen,
    ExamOrder,
    ExamOrderItem,
    ExamPackage,
    MembershipCard,
    MembershipCardEvent,
    QueueTicket,
    TriageKeyword,
    Visit,
    VisitEvent,
)


class ClientPhoneMixin:
    @admin.display(description=_("phone"))
    def masked_phone(self, obj):
        return phones.mask(obj.client.phone)


# --- Configuration ------------------------------------------------------------------


@admin.register(ExamPackage)
class ExamPackageAdmin(admin.ModelAdmin):
    """What each exam package of the price list contains; an exam order copies the list."""

    list_display = ["price_item", "item_count", "active"]
    list_filter = ["active"]
    list_select_related = ["price_item"]
    search_fields = ["price_item__code", "price_item__name"]
    filter_horizontal = ["items"]

    def get_queryset(self, request):
        # The count of examinations per row in the same query, not one query per package.
        return super().get_queryset(request).annotate(n_items=Count("items"))

    @admin.display(description=_("examinations"), ordering="n_items")
    def item_count(self, obj):
        return obj.n_items


@admin.register(TriageKeyword)
class TriageKeywordAdmin(admin.ModelAdmin):
    list_display = ["keyword", "department", "sort_order"]
    list_editable = ["department", "sort_order"]
    list_filter = ["department"]
    list_select_related = ["department"]
    search_fields = ["keyword"]


# --- Membership cards ---------------------------------------------------------------


class MembershipCardEventInline(ReadOnlyInline):
    model = MembershipCardEvent
    fields = ["at", "action", "valid_until", "fee", "reason", "actor"]
    readonly_fields = fields


@admin.register(MembershipCard)
class MembershipCardAdmin(ClientPhoneMixin, ReadOnlyAdmin):
    """Cards are issued, renewed, suspended and cancelled on the front-desk card pages."""

    list_display = [
        "number",
        "client",
        "masked_phone",
        "level",
        "status",
        "valid_from",
        "valid_until",
        "fee",
        "issued_at",
    ]
    list_filter = ["status", "level"]
    list_select_related = ["client"]
    search_fields = ["=number"]
    date_hierarchy = "issued_at"
    show_full_result_count = False
    inlines = [MembershipCardEventInline]


# --- Exam orders --------------------------------------------------------------------


class ExamOrderItemInline(ReadOnlyInline):
    model = ExamOrderItem
    fields = ["price_item", "done_at", "done_by"]
    readonly_fields = fields


@admin.register(ExamOrder)
class ExamOrderAdmin(ClientPhoneMixin, ReadOnlyAdmin):
    list_display = ["id", "client", "masked_phone", "package", "status", "ordered_at"]
    list_filter = ["status", "package"]
    list_select_related = ["client", "package__price_item"]
    search_fields = ["=id", "client__name"]
    date_hierarchy = "ordered_at"
    show_full_result_count = False
    inlines = [ExamOrderItemInline]


# --- Visits and charges -------------------------------------------------------------


class VisitEventInline(ReadOnlyInline):
    model = VisitEvent
    fields = ["at", "action", "from_status", "to_status", "detail", "actor"]
    readonly_fields = fields


@admin.register(Visit)
class VisitAdmin(ClientPhoneMixin, ReadOnlyAdmin):
    list_display = [
        "id",
        "day",
        "client",
        "masked_phone",
        "visit_type",
        "status",
        "department",
        "expert",
        "arrived_at",
    ]
    list_filter = ["status", "visit_type", "department", "priority"]
    list_select_related = ["client", "department", "expert"]
    search_fields = ["=id"]
    date_hierarchy = "day"
    show_full_result_count = False
    inlines = [VisitEventInline]


@admin.register(Charge)
class ChargeAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "visit",
        "client",
        "price_item",
        "quantity",
        "amount",
        "source",
        "charged_at",
        "voided_at",
    ]
    list_filter = ["source", ("voided_at", admin.EmptyFieldListFilter)]
    list_select_related = ["visit", "client", "price_item"]
    search_fields = ["=id", "=visit__id", "=reference"]
    date_hierarchy = "charged_at"
    show_full_result_count = False


@admin.register(ChargeImport)
class ChargeImportAdmin(ReadOnlyAdmin):
    """A billing file's rows hold visit numbers, price codes and amounts: no personal data."""

    list_display = ["file_name", "uploaded_by", "uploaded_at", "status", "imported_at"]
    list_filter = ["status"]
    list_select_related = ["uploaded_by"]
    search_fields = ["file_name"]


# --- Queue numbers and screens ------------------------------------------------------------


@admin.register(QueueTicket)
class QueueTicketAdmin(ReadOnlyAdmin):
    """Queue numbers are given by triage and moved at the calling station: looked up here."""

    list_display = ["number", "department", "day", "status", "expert", "calls", "called_at"]
    list_filter = ["status", "department", "day"]
    list_select_related = ["department", "expert"]
    date_hierarchy = "day"
    exclude = ["visit"]


@admin.register(DisplayScreen)
class DisplayScreenAdmin(ReadOnlyAdmin):
    """Waiting-room screens are made on their own page (guide:display_list, which shows the
    links); here they are listed and may be revoked. The token is the screen's password: the
    admin does not show it."""

    list_display = ["name", "department", "created_at", "created_by", "revoked_at"]
    list_filter = ["department", "revoked_at"]
    list_select_related = ["department", "created_by"]
    exclude = ["token", "request_key"]
    actions = ["revoke"]

    @admin.action(description=_("Revoke the selected screens' links"))
    def revoke(self, request, queryset):
        from .services import display_screen_revoke

        for screen in queryset.filter(revoked_at__isnull=True):
            display_screen_revoke(screen=screen, by=request.user, request=request)
