"""Admin of the hospital directory: administrators keep departments, experts, weekly clinics,
dated sessions, the price list, channels and knowledge articles here."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ImportExportModelAdmin
from import_export.formats import base_formats

from zhongdu import exports
from zhongdu.models import (
    Channel,
    ClinicSession,
    Department,
    Expert,
    KnowledgeArticle,
    PriceItem,
    SessionTemplate,
)

from . import services
from .forms import CancelSessionsForm, ClinicSessionAdminForm
from .resources import PriceItemResource


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "floor", "phone_extension", "active", "sort_order")
    list_editable = ("sort_order",)
    list_filter = ("active", "floor")
    search_fields = ("name", "specialties")


class SessionTemplateInline(admin.TabularInline):
    model = SessionTemplate
    extra = 0
    fields = ("department", "weekday", "start_time", "end_time", "capacity", "active")


@admin.register(Expert)
class ExpertAdmin(admin.ModelAdmin):
    list_display = ("name", "title", "department_names", "active")
    list_filter = ("active", "departments")
    search_fields = ("name", "title", "specialties")
    filter_horizontal = ("departments",)
    inlines = [SessionTemplateInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("departments")

    @admin.display(description=_("departments"))
    def department_names(self, expert):
        return "、".join(department.name for department in expert.departments.all())


@admin.register(SessionTemplate)
class SessionTemplateAdmin(admin.ModelAdmin):
    list_display = (
        "expert",
        "department",
        "weekday",
        "start_time",
        "end_time",
        "capacity",
        "active",
    )
    list_filter = ("weekday", "active", "department")
    search_fields = ("expert__name", "department__name")
    list_select_related = ("expert", "department")
    autocomplete_fields = ("expert", "department")


@admin.register(ClinicSession)
class ClinicSessionAdmin(admin.ModelAdmin):
    form = ClinicSessionAdminForm
    list_display = (
        "date",
        "start_time",
        "end_time",
        "expert",
        "department",
        "capacity",
        "booked",
        "remaining_places",
        "status",
    )
    list_editable = ("capacity",)
    list_filter = ("status", "department", "date")
    date_hierarchy = "date"
    search_fields = ("expert__name", "department__name")
    list_select_related = ("expert", "department")
    autocomplete_fields = ("expert", "department")
    # Bookings move `booked`; cancelling goes through the action, which asks for a reason.
    readonly_fields = ("booked", "status", "cancel_reason")
    fields = (
        "template",
        "expert",
        "department",
        "date",
        "start_time",
        "end_time",
        "capacity",
        "booked",
        "status",
        "cancel_reason",
    )
    actions = ["cancel_sessions"]

    def get_changelist_form(self, request, **kwargs):
        kwargs.setdefault("form", ClinicSessionAdminForm)
        return super().get_changelist_form(request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        # A deleted session of a weekly clinic would be generated again by the next run: cancel
        # it instead, which the generator leaves alone.
        return False

    @admin.display(description=_("remaining"))
    def remaining_places(self, session):
        return session.remaining

    @admin.action(description=_("Cancel selected sessions"), permissions=["change"])
    def cancel_sessions(self, request, queryset):
        sessions = list(
            queryset.filter(status=ClinicSession.Status.SCHEDULED).select_related(
                "expert", "department"
            )
        )
        if not sessions:
            self.message_user(
                request, _("The selected sessions are already cancelled."), messages.WARNING
            )
            return None
        form = CancelSessionsForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            return self._cancel(request, sessions, form.cleaned_data["reason"])
        context = {
            **self.admin_site.each_context(request),
            "title": _("Cancel clinic sessions"),
            "opts": self.opts,
            "sessions": sessions,
            "form": form,
            "action_name": "cancel_sessions",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request, "admin/zhongdu/clinicsession/cancel_sessions.html", context
        )

    def _cancel(self, request, sessions, reason):
        cancelled = 0
        for session in sessions:
            try:
                services.clinic_session_cancel(session=session, reason=reason)
            except ValidationError:
                continue  # cancelled by someone else since the page was shown
            self.log_change(request, session, [{"changed": {"fields": ["status"]}}])
            cancelled += 1
        self.message_user(
            request,
            ngettext("%(count)d session cancelled.", "%(count)d sessions cancelled.", cancelled)
            % {"count": cancelled},
            messages.SUCCESS,
        )
        return None


@admin.register(PriceItem)
class PriceItemAdmin(ImportExportModelAdmin):
    resource_classes = [PriceItemResource]
    import_formats = [exports.AdminCSV, base_formats.XLSX]
    # Written by the one export builder (formula guard, BOM: zhongdu.exports); a CSV it wrote
    # is read back as it was typed.
    export_formats = [exports.AdminCSV, exports.AdminXLSX]
    list_display = ("code", "name", "category", "department", "price", "active", "effective_date")
    list_filter = ("category", "active", "department")
    search_fields = ("code", "name")
    list_select_related = ("department",)
    autocomplete_fields = ("department",)

    def has_import_permission(self, request):
        # Importing adds and changes rows: it needs both permissions, like the admin's own forms.
        return self.has_add_permission(request) and self.has_change_permission(request)

    def has_export_permission(self, request):
        return self.has_view_permission(request)


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "active")
    list_filter = ("kind", "active")
    search_fields = ("name",)


@admin.register(KnowledgeArticle)
class KnowledgeArticleAdmin(admin.ModelAdmin):
    list_display = ("title", "topic", "active", "updated_at")
    list_filter = ("topic", "active")
    search_fields = ("title", "keywords", "body")
