"""Writes of referrals (转诊): a client sent by the marketing department, a partner clinic, a
doctor or an enterprise (seed: 协助安排好市场部转诊病人的就诊工作). Recorded from the client page,
called by the consultation desk, seen arriving by the front desk. Each change is one transaction,
appends a ReferralEvent and writes the audit trail; the allowed moves are REFERRAL_TRANSITIONS.

A visit closes the loop by itself: when the front desk registers the client's arrival,
guide.services (the visit's registration) marks their open referrals arrived
(referrals_note_arrival).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clientmgmt.models import Client
from zhongdu import audit
from zhongdu.services import create_once

from .models import Referral, ReferralEvent

Status = Referral.Status

# Every allowed move, in one place. A booking that fell through goes back to "contacted"; closed
# is final (a new referral is a new record).
REFERRAL_TRANSITIONS: dict[str, set[str]] = {
    Status.NEW: {Status.CONTACTED, Status.BOOKED, Status.ARRIVED, Status.CLOSED},
    Status.CONTACTED: {Status.BOOKED, Status.ARRIVED, Status.CLOSED},
    Status.BOOKED: {Status.CONTACTED, Status.ARRIVED, Status.CLOSED},
    Status.ARRIVED: {Status.CLOSED},
    Status.CLOSED: set(),
}
OPEN_STATUSES = (Status.NEW, Status.CONTACTED, Status.BOOKED)


class IllegalTransition(ValidationError):
    pass


def referral_create(
    *,
    client: Client,
    by,
    source: str,
    referrer: str,
    note: str = "",
    request=None,
    request_key: str = "",
) -> Referral:
    """Record a referral; the same form sent twice (`request_key`, its one-time key) records
    one."""
    if client.status == Client.Status.MERGED:
        raise ValidationError(
            _("This record was merged into another one; use the surviving record.")
        )
    if source not in Referral.Source.values:
        raise ValidationError(_("Choose who referred the client."))
    referrer = (referrer or "").strip()
    if not referrer:
        raise ValidationError(_("Name the referring person or organisation."))

    def write():
        referral = Referral.objects.create(
            client=client,
            source=source,
            referrer=referrer[:100],
            note=(note or "").strip(),
            created_by=by,
            request_key=request_key,
        )
        ReferralEvent.objects.create(
            referral=referral, to_status=Status.NEW, note=referral.note[:300], actor=by
        )
        audit.record(audit.Action.CREATE, actor=by, obj=referral, request=request)
        return referral

    with transaction.atomic():
        return create_once(Referral, request_key, write)[0]


def referral_set_status(
    *, referral: Referral, new_status: str, by, note: str = "", request=None
) -> Referral:
    """Move a referral along the map; closing needs a word on why."""
    if new_status not in Status.values:
        raise ValidationError(_("Unknown status."))
    note = (note or "").strip()
    if new_status == Status.CLOSED and not note:
        raise ValidationError(_("Say why the referral is closed."))
    with transaction.atomic():
        # The row lock makes two clerks' clicks one after the other: the second sees the move.
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        if new_status not in REFERRAL_TRANSITIONS[locked.status]:
            raise IllegalTransition(
                _("A referral cannot go from %(from)s to %(to)s.")
                % {"from": Status(locked.status).label, "to": Status(new_status).label}
            )
        _move(locked, new_status, by=by, note=note)
        audit.record(audit.Action.UPDATE, actor=by, obj=locked, fields=["status"], request=request)
    referral.refresh_from_db()
    return referral


def _move(referral: Referral, new_status: str, *, by, note: str) -> None:
    from_status = referral.status
    referral.status = new_status
    referral.updated_at = timezone.now()
    referral.save(update_fields=["status", "updated_at"])
    ReferralEvent.objects.create(
        referral=referral, from_status=from_status, to_status=new_status, note=note[:300], actor=by
    )


def referrals_note_arrival(*, client_id: int) -> int:
    """The client came: their open referrals are marked arrived (the front desk registered the
    visit). Call inside the department's transaction; one query when there is none."""
    count = 0
    for referral in Referral.objects.select_for_update().filter(
        client_id=client_id, status__in=OPEN_STATUSES
    ):
        _move(referral, Status.ARRIVED, by=None, note="")
        count += 1
    return count
