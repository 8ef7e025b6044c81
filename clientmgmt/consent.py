"""What a person may consent to, in one place (PIPL: separate consent per purpose, each with the
notice the person was shown). A new purpose (voice notifications, say) is one more entry in
PURPOSES: the models, the forms, the client page, the audit trail's labels and the send-time
rules read the list, and nothing needs a migration.

The record itself is in clientmgmt.models (ConsentEvent: every grant and withdrawal, append-only;
ClientConsent: the state in force, one row per client and purpose); the writes are
clientmgmt.services.consent_grant / consent_withdraw, the reads clientmgmt.selectors.has_consent
and its friends."""

from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# The notice version given to the consents carried over from the client record's old switches
# (clientmgmt/migrations/0004_consent.py): nobody knows which text those people were shown.
BEFORE_NOTICES = "before 2026-12"


@dataclass(frozen=True)
class Purpose:
    code: str
    label: Promise  # what staff and the audit trail call it
    agreement: Promise  # what the person ticks, in their words
    # The state when nothing is recorded: service SMS (confirmations, reminders of what the
    # person booked) go unless refused; everything else needs a recorded consent.
    default: bool = False
    # Purposes that cannot stand without this one: withdrawing it withdraws them too, and they
    # cannot be granted while it is withdrawn (no marketing SMS to someone who refused all SMS).
    needs: tuple[str, ...] = ()
    # A tick on the public booking page becomes the client's grant when the request is attached
    # to them. Not for marketing: the page does not prove whose number was typed, so a stranger
    # could sign a patient up; staff confirm it with the person (the consultants' queue shows
    # the tick) and record it on the client page.
    from_public_page: bool = False


HEALTH_DATA = "health_data"
SERVICE_SMS = "service_sms"
MARKETING_SMS = "marketing_sms"
SERVICE_VOICE = "service_voice"
EMPLOYER_AGGREGATE = "employer_aggregate"

PURPOSES: dict[str, Purpose] = {
    purpose.code: purpose
    for purpose in (
        Purpose(
            HEALTH_DATA,
            _("Processing of health information"),
            _(
                "I agree that the hospital processes the health information I give "
                "(my skin concern) to arrange my care, as the privacy notice describes."
            ),
            from_public_page=True,
        ),
        Purpose(
            SERVICE_SMS,
            _("Service SMS (confirmations, reminders)"),
            _("I agree to receive SMS about my bookings and care (confirmations, reminders)."),
            default=True,
        ),
        Purpose(
            MARKETING_SMS,
            _("Marketing SMS"),
            _("I would like to receive SMS about the hospital's events and offers."),
            needs=(SERVICE_SMS,),
        ),
        # Reminders read out on the telephone (语音通知), for service notices only: a recorded
        # choice (a client with a mobile gets SMS unless they chose voice; one with only a
        # landline is called unless they refused). Its withdrawal, at the desk or by pressing 9
        # on a reminder call, is the one voice opt-out (messaging.services.WITHDRAWAL_STOPS).
        Purpose(
            SERVICE_VOICE,
            _("Voice notifications (reminders by telephone)"),
            _("I would like my booking reminders read to me by an automated telephone call."),
        ),
        # An employee's agreement that their exam results are counted, with no one identifiable,
        # in the team report the hospital gives their employer (exams.teams): only those who
        # agreed are counted.
        Purpose(
            EMPLOYER_AGGREGATE,
            _("Results counted in a team report for the employer"),
            _(
                "I agree that my exam results are counted, with no one identifiable, in the "
                "summary report the hospital gives my employer."
            ),
        ),
    )
}


def purpose_choices():
    """The model fields' choices (a callable: a new purpose needs no migration)."""
    return [(purpose.code, purpose.label) for purpose in PURPOSES.values()]


def get_purpose(code: str) -> Purpose:
    try:
        return PURPOSES[code]
    except KeyError:
        raise ValueError(f"not a consent purpose: {code!r}") from None


def dependants(code: str) -> list[str]:
    """The purposes that need `code` (withdrawn with it)."""
    return [p.code for p in PURPOSES.values() if code in p.needs]


class Channel(models.TextChoices):
    """Where a grant or withdrawal was recorded."""

    PUBLIC_PAGE = "public_page", _("Public booking page")
    WALK_IN = "walk_in", _("Walk-in registration")
    NEW_CLIENT_FORM = "new_client_form", _("New client form")
    EVENT_DOOR = "event_door", _("Event registration at the door")
    CLIENT_PAGE = "client_page", _("Client page")
    SMS_REPLY = "sms_reply", _("SMS reply")
    PROVIDER = "provider", _("SMS provider's report")
    IN_APP = "in_app", _("In-app (a key pressed on a reminder call)")
    # The person on their own, signed in to the patient portal (/my/data/).
    PORTAL = "portal", _("Patient portal")
    IMPORT = "import", _("Imported list")
    MIGRATION = "migration", _("Earlier record")


class Method(models.TextChoices):
    """How the person said so, when staff record it."""

    VERBAL = "verbal", _("Verbally, in person")
    PHONE = "phone", _("On the phone")
    WRITTEN = "written", _("Signed form")
    SMS = "sms", _("SMS reply")
    WEB = "web", _("Online form")
    PORTAL = "portal", _("By themselves, signed in to the patient portal")
