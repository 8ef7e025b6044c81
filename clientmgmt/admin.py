from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from zhongdu import audit
from zhongdu.admin import ReadOnlyAdmin

# ClientEvent is not in the admin: it is read on the client's timeline, and the admin would ask
# for a delete permission on it before deleting a client.
from .models import Client, ClientMerge


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    """View and delete only: clients are registered and edited in the application, where the
    services keep search tokens, encryption, events and the audit trail right. Deleting is for
    administrators (the role's permissions) and is audited."""

    list_display = ("id", "name", "phone_masked", "id_number_masked", "status", "created_at")
    list_filter = ("status", "is_patient", "is_member", "is_exam_client", "is_vip")
    search_fields = ("name", "phone_last4")
    show_full_result_count = False
    fields = (
        "name",
        "sex",
        "date_of_birth",
        "phone_masked",
        "id_number_masked",
        "status",
        "merged_into",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    @admin.display(description=_("mobile phone"))
    def phone_masked(self, obj):
        return obj.phone_masked

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        audit.record(audit.Action.DELETE, obj=obj, request=request)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            audit.record(audit.Action.DELETE, obj=obj, request=request)
        super().delete_queryset(request, queryset)


@admin.register(ClientMerge)
class ClientMergeAdmin(ReadOnlyAdmin):
    list_display = ("id", "survivor", "merged", "merged_at", "merged_by", "undone_at")
