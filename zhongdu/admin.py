from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from . import services
from .models import AuditEvent, AuditSeal, CalendarDay, Heartbeat, HospitalProfile, WorkingHours
from .models.profile import PROFILE_FIELDS

admin.site.site_header = _("Zhongdu customer-service centre")
admin.site.site_title = _("Zhongdu administration")
admin.site.index_title = _("Hospital configuration")


def admin_login(request, extra_context=None):
    """The admin's sign-in is the project's (password and code, audited, locked by axes), not a
    second password-only form: the admin sends there, and back to where it was going. Someone
    already in goes on, as with Django's own admin sign-in. (django-two-factor-auth's own patch,
    TWO_FACTOR_PATCH_ADMIN, sent a signed-in administrator to the sign-in page too.)"""
    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = ""
    target = target or reverse("admin:index")
    if request.method == "GET" and admin.site.has_permission(request):
        return redirect(target)
    return redirect_to_login(target)


admin.site.login = admin_login


# --- What every app's admin shares ----------------------------------------------------------


class ReadOnlyAdmin(admin.ModelAdmin):
    """Looked at, never added, changed or deleted here: the fields `readonly_fields` names, or
    else every field but those `exclude` names."""

    def get_readonly_fields(self, request, obj=None):
        if self.readonly_fields:
            return self.readonly_fields
        hidden = self.exclude or ()
        return [field.name for field in self.model._meta.fields if field.name not in hidden]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under their record (its history, its items): nothing added, changed or deleted."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class PolicyAdmin(admin.ModelAdmin):
    """The admin of a Policy (zhongdu.models.policy), which is never deleted. A singleton's row
    is made on first use (`current()`), so it offers no "add" once the row exists; a versioned
    policy's versions are added, never changed."""

    def has_add_permission(self, request):
        exists = not self.model.versioned and self.model.objects.exists()
        return super().has_add_permission(request) and not exists

    def has_change_permission(self, request, obj=None):
        return not self.model.versioned and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(HospitalProfile)
class HospitalProfileAdmin(PolicyAdmin):
    """Add-only, like the VIP rules: each save is a new version; the newest is in force."""

    list_display = ["__str__", "display_name", "hotline", "created_by", "created_at", "note"]
    list_select_related = ["created_by"]
    fieldsets = [
        (_("Names"), {"fields": ["full_name", "display_name", "sms_signature"]}),
        (_("Contact"), {"fields": ["address", "hotline", "opening_hours", "website"]}),
        (_("Privacy notice"), {"fields": ["privacy_notice", "privacy_notice_version"]}),
        (None, {"fields": ["note"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        if obj is not None:  # a version looked at: everything, who and when included
            return [(None, {"fields": [*PROFILE_FIELDS, "note", "created_by", "created_at"]})]
        return super().get_fieldsets(request, obj)

    def get_changeform_initial_data(self, request):
        # A new version starts as the one in force: the administrator changes what changes.
        current = HospitalProfile.current()
        return {name: getattr(current, name) for name in PROFILE_FIELDS}

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in PROFILE_FIELDS}
        profile = services.hospital_profile_add(
            by=request.user, note=form.cleaned_data["note"], **data
        )
        # The admin goes on with `obj` (its message, the log entry, the redirect): make it the
        # version the service saved.
        obj.pk, obj.created_by, obj.created_at = profile.pk, profile.created_by, profile.created_at
        obj._state.adding, obj._state.db = False, profile._state.db


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


@admin.register(AuditSeal)
class AuditSealAdmin(ReadOnlyAdmin):
    """The seals over the audit trail, to look at; `manage.py audit_verify` checks them."""

    list_display = ("pk", "first_audit_id", "last_audit_id", "row_count", "key_id", "sealed_at")
    exclude = ("row_macs",)  # 16 bytes a row of binary: nothing to read
    show_full_result_count = False


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("name", "last_seen", "beats")
    readonly_fields = ("name", "last_seen", "beats")

    def has_add_permission(self, request):
        return False


from .directory import admin as directory_admin  # noqa: E402, F401  (registers the directory)


@admin.register(WorkingHours)
class WorkingHoursAdmin(PolicyAdmin):
    list_display = ["__str__", "start", "end", "weekdays"]


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "name", "is_working"]
    list_filter = ["is_working"]
    date_hierarchy = "date"
    search_fields = ["name"]
