from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VoiceConfig(AppConfig):
    name = "voice"
    verbose_name = _("Hotline")

    def ready(self):
        from clientmgmt import registry
        from consult.selectors import register_recall_details
        from zhongdu.origins import call_asked, made_on_call, register_call_facts
        from zhongdu.workbench import (
            register_dial_button,
            register_page_part,
            register_record_part,
            register_workbench_panel,
        )

        from . import outbound
        from .models import Call
        from .receipts import register_receipt_handler
        from .reminders import message_receipt
        from .selectors import (
            call_entry,
            call_rows,
            callback_details,
            complaint_calls_part,
            dial_button,
            pop_part,
            presence_panel,
            recall_calls_part,
            task_calls_part,
        )

        registry.register_timeline_source(
            registry.TimelineSource(
                kind="hotline", label=_("Hotline calls"), rows=call_rows, entry=call_entry
            )
        )
        # The agent's presence on the workbench (no query for a user who answers no calls).
        register_workbench_panel(presence_panel)
        # The call pop on every page of an agent (no query for a user who answers no calls).
        register_page_part(pop_part)
        # A callback task's and a complaint's page show the calls behind them, and their voicemail.
        register_record_part("consult.recall", recall_calls_part)
        # The list of people to call back says what each caller's calls were.
        register_recall_details(callback_details)
        register_record_part("complaints.complaint", complaint_calls_part)
        # An enquiry or a complaint made on a call's page: the call leads to it.
        made_on_call.connect(_made_on_call, dispatch_uid="voice.made_on_call")
        call_asked.connect(_call_asked, dispatch_uid="voice.call_asked")
        # Calling out (voice.outbound): the call button on every worklist, the provider's
        # receipts of the calls it placed, what a task's outcome form is told of its call, and
        # the calls placed for a task on its page.
        register_dial_button(dial_button)
        register_receipt_handler("call", outbound.call_receipt)
        register_call_facts(outbound.call_facts)
        for label, worklist in (
            ("followup.followupcall", Call.Worklist.FOLLOWUP),
            ("consult.recall", Call.Worklist.RECALL),
            ("complaints.complaint", Call.Worklist.COMPLAINT),
        ):
            register_record_part(label, task_calls_part(worklist))
        # An outbox call's receipt (a voice reminder): the outbox's record, then the key pressed.
        register_receipt_handler("msg", message_receipt)


def _made_on_call(sender, *, record, call, by, **kwargs):
    from .services import call_made_into

    call_made_into(call_reference=call, record=record, by=by)


def _call_asked(sender, *, call, by, phone, client_id, **kwargs):
    from .services import call_may_link

    return call_may_link(call_reference=call, by=by, phone=phone, client_id=client_id)
