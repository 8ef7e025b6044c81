from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from zhongdu.admin import PolicyAdmin

from .models import Agent, Call, CallQueue, Recording, RecordingPolicy


@admin.register(RecordingPolicy)
class RecordingPolicyAdmin(PolicyAdmin):
    """How long recordings are kept, by the call's category (the nightly sweep reads it)."""

    list_display = ["__str__", "routine_days", "complaint_days", "vip_days"]


@admin.register(CallQueue)
class CallQueueAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "active"]
    search_fields = ["name", "code"]


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "extension", "own_line", "presence", "presence_since"]
    list_filter = ["presence", "queues"]
    search_fields = ["extension", "user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["queues"]

    # The line a click-to-call rings first is edited in full here (Agent.clean normalises and
    # checks it); the list shows it masked.
    @admin.display(description=_("own phone line"))
    def own_line(self, obj):
        return obj.line_masked or "—"


class RecordingInline(admin.TabularInline):
    """Whether the call's recording and voicemail were fetched and kept (never where from)."""

    model = Recording
    fields = ["kind", "status", "problem", "attempts", "size", "fetched_at", "expired_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    """Read only: a call is what the PBX's events said. Its number shows masked, and the PBX's
    recording addresses not at all."""

    list_display = ["ringing_at", "direction", "number_masked", "queue", "agent", "outcome"]
    list_filter = ["outcome", "direction", "queue"]
    fields = [
        "external_id",
        "direction",
        "number_masked",
        "queue",
        "queue_code",
        "ivr_path",
        "recording_notice",
        "agent",
        "extension",
        "client",
        "ringing_at",
        "answered_at",
        "ended_at",
        "hold_seconds",
        "outcome",
        "worklist",
        "task_id",
        "provider_call_id",
        "problem",
    ]
    readonly_fields = fields
    inlines = [RecordingInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
