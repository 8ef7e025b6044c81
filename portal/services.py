"""The portal's writes: one-time codes asked for and entered, patient sessions begun, switched and
ended, dependants authorised and withdrawn. Each part's own services live in its module."""

import dataclasses
import datetime
import hashlib
import hmac
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clientmgmt.models import Client
from clientmgmt.services import client_phone_lock
from messaging.models import Kind, Purpose
from messaging.services import outbox_enqueue, template_available
from zhongdu import audit

from .models import PatientSession, PortalDependant, SignInAttempt, SignInCode

CODE_TEMPLATE = "portal_sign_in_code"
CODE_DIGITS = 6
HOUR = datetime.timedelta(hours=1)


class Refused(ValidationError):
    """A request the limits or the code's state refuse; its message is said to the person."""


def _hash(value: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def code_hash(code_id: int, code: str) -> str:
    # Keyed by the secret and bound to its row: a leaked table gives no code, and one row's hash
    # says nothing of another's.
    return _hash(f"signin:{code_id}:{code}")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _attempts(kind, since, **where) -> int:
    return SignInAttempt.objects.filter(kind=kind, at__gte=since, **where).count()


def _failures(since, **where) -> int:
    return SignInAttempt.objects.filter(
        kind=SignInAttempt.Kind.VERIFY, succeeded=False, at__gte=since, **where
    ).count()


def _locked(*, phone: str, ip: str | None, now) -> bool:
    """Too many wrong codes from this number or this address in the last hour."""
    since = now - HOUR
    if _failures(since, phone=phone) >= settings.PORTAL_FAILURES_PER_NUMBER:
        return True
    return bool(ip) and _failures(since, ip=ip) >= settings.PORTAL_FAILURES_PER_ADDRESS


LOCKED = _(
    "Too many wrong codes: signing in with this number is locked for an hour. Call the hotline "
    "if you need help now."
)


def portal_client_for_phone(phone: str) -> Client | None:
    """The client who signs in with this number: the one active record holding it, leaving out
    records that are the authorised dependants of another record with the same number (a child
    registered with a parent's mobile; an adult dependant with a mobile of their own still
    signs in with it). None when no record, or more than one, holds it."""
    dependants = PortalDependant.objects.filter(
        revoked_at__isnull=True, holder__phone=phone
    ).values("dependant_id")
    found = list(
        Client.objects.filter(phone=phone, status=Client.Status.ACTIVE)
        .exclude(pk__in=dependants)
        .order_by("pk")[:2]
    )
    return found[0] if len(found) == 1 else None


def code_request(*, phone: str, ip: str | None) -> SignInCode:
    """Ask for a code for `phone` (normalised): a row whatever the number, an SMS only when a
    client holds it, so the page answers alike for anyone. Refused (with the reason said) when
    the number asked within PORTAL_CODE_RESEND_SECONDS, or the number or the address are over
    their hourly limits, or locked by wrong codes. The refusal is counted too."""
    now = timezone.now()
    with transaction.atomic():
        # One request at a time per number: two tabs (or a double click) make one code.
        client_phone_lock(phone)
        refusal = _request_refusal(phone=phone, ip=ip, now=now)
        SignInAttempt.objects.create(
            kind=SignInAttempt.Kind.REQUEST, phone=phone, ip=ip, succeeded=not refusal, at=now
        )
        if not refusal:
            client = portal_client_for_phone(phone)
            signin = SignInCode.objects.create(
                phone=phone,
                code_hash="",
                created_at=now,
                expires_at=now + datetime.timedelta(minutes=settings.PORTAL_CODE_MINUTES),
                sent=client is not None,
                ip=ip,
            )
            code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
            signin.code_hash = code_hash(signin.pk, code)
            signin.save(update_fields=["code_hash"])
            if client is not None:
                _send_code(signin, code, settings.PORTAL_CODE_MINUTES)
    if refusal:
        raise Refused(refusal)  # after the attempt is committed
    return signin


def _request_refusal(*, phone, ip, now) -> str:
    if _locked(phone=phone, ip=ip, now=now):
        return str(LOCKED)
    resend = datetime.timedelta(seconds=settings.PORTAL_CODE_RESEND_SECONDS)
    if SignInCode.objects.filter(phone=phone, created_at__gt=now - resend).exists():
        return str(_("A code was sent a moment ago: wait a minute before asking again."))
    request = SignInAttempt.Kind.REQUEST
    over_number = _attempts(request, now - HOUR, phone=phone) >= settings.PORTAL_CODES_PER_NUMBER
    over_address = bool(ip) and (
        _attempts(request, now - HOUR, ip=ip) >= settings.PORTAL_CODES_PER_ADDRESS
    )
    if over_number or over_address:
        return str(_("Too many codes asked for in the last hour: try again later."))
    return ""


def _send_code(signin: SignInCode, code: str, minutes: int) -> None:
    """The code by SMS, at once (the outbox queues it as this transaction commits): the code,
    its validity and the hospital's name, nothing else. To the number typed, not to a client:
    the person asked for it, so no consent is asked and no opt-out applies."""
    values = {"code": code, "minutes": str(minutes)}
    common = {
        "idempotency_key": f"portal-code:{signin.pk}",
        "purpose": Purpose.SIGN_IN_CODE,
        "kind": Kind.VERIFICATION,
        "to": signin.phone,
        "expires_at": signin.expires_at,
    }
    if template_available(CODE_TEMPLATE):
        outbox_enqueue(template_code=CODE_TEMPLATE, values=values, **common)
    else:
        # The template was deactivated in the admin: the same words as free text, which a route
        # that sends only approved templates holds for staff to see.
        outbox_enqueue(body=str(default_code_text(code, minutes)), **common)


def default_code_text(code: str, minutes: int):
    from messaging.services import hospital_placeholder_values

    return _("%(signature)sYour sign-in code is %(code)s, valid for %(minutes)s minutes.") % {
        "signature": hospital_placeholder_values().get("signature", ""),
        "code": code,
        "minutes": minutes,
    }


@dataclasses.dataclass
class Verified:
    client: Client | None
    refusal: str = ""


def code_verify(*, code_id: int, code: str, ip: str | None) -> Verified:
    """Check a code entered against its row. Every entry is counted; a wrong one adds to the
    code's failures (dead at PORTAL_CODE_ATTEMPTS) and to the number's and the address's (locked
    for the hour at their limits). A right one is used at once: it never works twice. The
    answer for a number that is no client's is the wrong code's."""
    now = timezone.now()
    with transaction.atomic():
        # The row's lock: two tabs entering the same code use it once.
        signin = SignInCode.objects.select_for_update().filter(pk=code_id).first()
        phone = signin.phone if signin else ""
        if signin is None or _locked(phone=phone, ip=ip, now=now):
            refusal, right = (LOCKED if signin else EXPIRED), False
        elif signin.used_at or signin.expires_at <= now:
            refusal, right = EXPIRED, False
        elif signin.failures >= settings.PORTAL_CODE_ATTEMPTS:
            refusal, right = TOO_MANY, False
        else:
            right = signin.sent and hmac.compare_digest(
                signin.code_hash, code_hash(signin.pk, code)
            )
            refusal = "" if right else WRONG
            if right:
                signin.used_at = now
                signin.save(update_fields=["used_at"])
            else:
                signin.failures += 1
                signin.save(update_fields=["failures"])
        SignInAttempt.objects.create(
            kind=SignInAttempt.Kind.VERIFY, phone=phone, ip=ip, succeeded=right, at=now
        )
    if not right:
        return Verified(client=None, refusal=str(refusal))
    client = portal_client_for_phone(phone)
    if client is None:  # the record changed since the code went
        return Verified(client=None, refusal=str(WRONG))
    return Verified(client=client)


WRONG = _("The code is not right. Check the SMS and enter it again.")
EXPIRED = _("The code has expired or was used. Ask for a new one.")
TOO_MANY = _("Too many wrong entries for this code. Ask for a new one.")


def session_start(*, client: Client, ip: str | None, user_agent: str) -> tuple[PatientSession, str]:
    """A new session for a signed-in client: (the row, the token for the cookie)."""
    token = secrets.token_urlsafe(32)
    session = PatientSession.objects.create(
        token_hash=token_hash(token),
        client=client,
        subject=client,
        ip=ip,
        user_agent=user_agent[:300],
    )
    audit.record(
        audit.Action.LOGIN,
        obj=client,
        object_repr=str(_("Signed in to the patient portal")),
        username=portal_username(client),
    )
    return session, token


def portal_username(client) -> str:
    """Who the audit trail names when the person acts on the portal (no staff user)."""
    return f"portal:{client.pk}"


def session_end(*, session: PatientSession) -> None:
    PatientSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(
        ended_at=timezone.now()
    )


def session_switch(*, session: PatientSession, subject: Client) -> None:
    """Show `subject`'s record (the person's own, or an authorised dependant's: the caller
    checked it is among selectors.portal_people)."""
    PatientSession.objects.filter(pk=session.pk).update(subject=subject)
    session.subject = subject


def dependant_authorise(
    *, holder: Client, dependant: Client, relation: str, evidence: str, by
) -> PortalDependant:
    """Staff record that `holder` may see `dependant`'s record on the portal. Once per pair in
    force (a double click records one)."""
    if holder.pk == dependant.pk:
        raise ValidationError(_("A person cannot be their own dependant."))
    try:
        with transaction.atomic():
            authorisation = PortalDependant.objects.create(
                holder=holder,
                dependant=dependant,
                relation=relation,
                evidence=evidence,
                recorded_by=by,
            )
    except IntegrityError:
        return PortalDependant.objects.get(
            holder=holder, dependant=dependant, revoked_at__isnull=True
        )
    audit.record(audit.Action.UPDATE, actor=by, obj=dependant, fields=["portal_dependant"])
    return authorisation


def dependant_revoke(*, authorisation: PortalDependant, by) -> None:
    """Withdraw it: sessions showing the dependant go back to the holder's own record."""
    with transaction.atomic():
        changed = PortalDependant.objects.filter(
            pk=authorisation.pk, revoked_at__isnull=True
        ).update(revoked_at=timezone.now(), revoked_by=by)
        if changed:
            PatientSession.objects.filter(
                client_id=authorisation.holder_id, subject_id=authorisation.dependant_id
            ).update(subject_id=authorisation.holder_id)
    if changed:
        audit.record(
            audit.Action.UPDATE, actor=by, obj=authorisation.dependant, fields=["portal_dependant"]
        )
