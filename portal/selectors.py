"""The portal's reads: the signed-in patient from their cookie, and the people whose record
they may see (their own, and dependants staff authorised). Every part's pages read the person
through `request.patient.subject`, never through an id in the address."""

import dataclasses
import datetime

from django.conf import settings
from django.utils import timezone

from clientmgmt.models import Client
from zhongdu import phones

from .models import PatientSession, PortalDependant
from .services import token_hash

# last_seen_at is written at most once a minute: the idle timeout needs no finer clock, and most
# pages then write nothing.
SEEN_EVERY = datetime.timedelta(minutes=1)


@dataclasses.dataclass
class Patient:
    """`request.patient`: who signed in (`client`) and whose record the pages show
    (`subject`: the same person, or a dependant they were authorised to see)."""

    session: PatientSession
    client: Client
    subject: Client

    @property
    def acting_for_dependant(self) -> bool:
        return self.subject.pk != self.client.pk

    @property
    def masked_phone(self) -> str:
        return phones.mask(self.client.phone)


def patient_from_token(token: str) -> tuple[Patient | None, bool]:
    """(the patient, whether a session was found but had lapsed). One query for a live session
    (two once a minute, to note it was seen)."""
    if not token:
        return None, False
    session = (
        PatientSession.objects.select_related("client", "subject")
        .filter(token_hash=token_hash(token), ended_at__isnull=True)
        .first()
    )
    if session is None:
        return None, False
    now = timezone.now()
    idle = datetime.timedelta(minutes=settings.PORTAL_IDLE_TIMEOUT_MINUTES)
    lifetime = datetime.timedelta(hours=settings.PORTAL_SESSION_LIFETIME_HOURS)
    lapsed = session.last_seen_at + idle <= now or session.started_at + lifetime <= now
    if lapsed or session.client.status != Client.Status.ACTIVE:
        PatientSession.objects.filter(pk=session.pk).update(ended_at=now)
        return None, True
    if session.subject_id != session.client_id and session.subject.status != Client.Status.ACTIVE:
        # The dependant's record was merged or archived since: back to the person's own (a
        # withdrawn authorisation does the same at once, services.dependant_revoke).
        PatientSession.objects.filter(pk=session.pk).update(subject=session.client)
        session.subject = session.client
    if session.last_seen_at + SEEN_EVERY <= now:
        PatientSession.objects.filter(pk=session.pk).update(last_seen_at=now)
    return Patient(session=session, client=session.client, subject=session.subject), False


def in_wechat(request) -> bool:
    """WeChat's own browser (its user agent says MicroMessenger): it saves no downloads and on
    most phones opens no PDF, so the pages say how to open them in the phone's browser."""
    return "MicroMessenger" in request.headers.get("user-agent", "")


def portal_people(client: Client) -> list[Client]:
    """The person first, then the dependants staff authorised them to see."""
    authorised = (
        PortalDependant.objects.filter(holder=client, revoked_at__isnull=True)
        .select_related("dependant")
        .order_by("recorded_at")
    )
    return [client] + [row.dependant for row in authorised if row.dependant.status == "active"]
