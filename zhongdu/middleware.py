import functools
import logging
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import MiddlewareNotUsed, PermissionDenied
from django.db import DataError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import middleware as otp_middleware
from two_factor.utils import default_device

from . import audit
from .controlchars import has_control_characters
from .roles import (
    PAGE_ACCESS,
    PATIENT,
    PUBLIC,
    SIGNED_IN,
    access_rule,
    two_factor_required,
    user_roles,
)

logger = logging.getLogger(__name__)

SESSION_STARTED = "zd_started"
SESSION_LAST_SEEN = "zd_last_seen"
LAST_SEEN_RESOLUTION = 60  # seconds
# When the device that verified the session was last found in the database (see OTPMiddleware).
SESSION_DEVICE_CHECKED = "zd_otp_checked"
DEVICE_CHECK_RESOLUTION = 60  # seconds


class SessionTimeoutMiddleware:
    """Signs a user out after SESSION_IDLE_TIMEOUT seconds without a request, and after
    SESSION_ABSOLUTE_LIFETIME seconds in all, however active they were.

    Django's cookie age alone cannot do both: the cookie's expiry moves with every saved session.
    The times are kept in the session itself and checked on every request.

    The last-seen time is written at most once every LAST_SEEN_RESOLUTION seconds, so the stored
    time may be up to that much older than the real last request. The idle limit is therefore
    compared with timeout + resolution: a session never ends before SESSION_IDLE_TIMEOUT has
    really passed since the last request, and at most LAST_SEEN_RESOLUTION seconds after.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            started = request.session.get(SESSION_STARTED)
            last_seen = request.session.get(SESSION_LAST_SEEN, started)
            if started is None:
                request.session[SESSION_STARTED] = request.session[SESSION_LAST_SEEN] = now
            elif (
                now - last_seen > settings.SESSION_IDLE_TIMEOUT + LAST_SEEN_RESOLUTION
                or now - started > settings.SESSION_ABSOLUTE_LIFETIME
            ):
                logout(request)
                messages.info(request, _("Your session has expired. Please sign in again."))
                return redirect_to_login(request.get_full_path())
            elif now - last_seen >= LAST_SEEN_RESOLUTION:
                # Written at most once a minute: saving the session on every request cost three
                # queries and a commit per page, for a timeout measured in minutes.
                request.session[SESSION_LAST_SEEN] = now
        return self.get_response(request)


class OTPMiddleware(otp_middleware.OTPMiddleware):
    """django_otp's middleware (request.user.is_verified(), request.user.otp_device), which looks
    the session's verifying device up on every request, with that look-up made at most once a
    minute: the time it last found the device (confirmed, the user's) is kept in the session, as
    the sign-in's time is (zhongdu.receivers.on_login). A device removed by an administrator, or
    turned off, stops verifying the sessions it verified within DEVICE_CHECK_RESOLUTION seconds.

    Why: a query more on every page of every manager, administrator and VIP manager, for a fact
    that changes when a phone is lost. Within the minute request.user.otp_device is the device
    loaded on first use (nothing in the project reads it on an ordinary page)."""

    def _verify_user_sync(self, request, user):
        self._init_user_fields(user)
        persistent_id = (
            request.session.get(DEVICE_ID_SESSION_KEY) if user.is_authenticated else None
        )
        if not persistent_id:
            return user
        now = int(time.time())
        checked = request.session.get(SESSION_DEVICE_CHECKED)
        if checked is not None and 0 <= now - checked < DEVICE_CHECK_RESOLUTION:
            user.otp_device = SimpleLazyObject(
                functools.partial(self._session_device, request, user, persistent_id)
            )
            return user
        user.otp_device = self._session_device(request, user, persistent_id)
        if user.otp_device is None:
            request.session.pop(SESSION_DEVICE_CHECKED, None)
        else:
            request.session[SESSION_DEVICE_CHECKED] = now
        return user

    def _session_device(self, request, user, persistent_id):
        device = self._device_from_persistent_id(persistent_id)
        return self._finalize_device(request, user, device)


class TwoFactorMiddleware:
    """The roles that must sign in with two factors (settings.TWO_FACTOR_REQUIRED_ROLES) reach no
    page with a password alone. Without a device they are sent to enrol (and come back to the
    page they asked for); with one, a session that has not entered its code (signed in before
    the device was set up elsewhere, before the role was given, through another door) is signed
    out, and the sign-in asks for the password and the code. Needs django_otp's OTPMiddleware
    before it, for request.user.is_verified().

    Static files never get here (WhiteNoise answers them first); the pages below stay open, so
    that one can enrol, leave, switch language, and the health check answers."""

    ALWAYS_OPEN = frozenset({"logout", "set_language", "healthz"})
    ENROLMENT = frozenset({"two_factor:setup", "two_factor:qr", "two_factor:setup_complete"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.is_verified() or not two_factor_required(user):
            return None
        view_name = request.resolver_match.view_name
        if view_name in self.ALWAYS_OPEN:
            return None
        if default_device(user) is None:
            if view_name in self.ENROLMENT:
                return None
            setup = reverse("two_factor:setup")
            return redirect(f"{setup}?{urlencode({'next': request.get_full_path()})}")
        logout(request)
        messages.info(request, _("Sign in with your password and the code from your app."))
        return redirect_to_login(request.get_full_path())


class RoleAccessMiddleware:
    """Enforces zhongdu.roles.PAGE_ACCESS for every resolved URL. A URL that the table does not
    declare is refused for everyone: pages fail closed."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_name = request.resolver_match.view_name
        rule = access_rule(view_name)
        if rule == PUBLIC:
            return None
        if rule == PATIENT:
            # The portal's pages: a patient's session, never a staff one (and the reverse: a
            # patient is anonymous to every other page).
            if getattr(request, "patient", None) is not None:
                return None
            lapsed = "&lapsed=1" if getattr(request, "patient_lapsed", False) else ""
            login = reverse("portal:login")
            return redirect(f"{login}?{urlencode({'next': request.get_full_path()})}{lapsed}")
        if rule is not None and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if rule == SIGNED_IN or (rule is not None and user_roles(request.user) & rule):
            return None
        audit.record(
            audit.Action.DENIED,
            object_type="url",
            object_id=view_name[:64],
            object_repr=request.path,
            request=request,
        )
        raise PermissionDenied


class OutOfRangeMiddleware:
    """A safety net under the forms' own bounds (zhongdu.forms.DayField, IdField): a number or a
    date beyond what Python or the database can hold is something a person typed, not a fault
    of the server. It gets a 400 page that says so, and a warning in the log, instead of a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        out_of_range = isinstance(exception, OverflowError) or (
            isinstance(exception, DataError) and "out of range" in str(exception)
        )
        if not out_of_range:
            return None
        logger.warning("Out-of-range input on %s: %s", request.path, exception)
        return render(request, "400.html", status=400)


class ControlCharacterMiddleware:
    """Refuses NUL and the other control characters (zhongdu.controlchars) in the address, the
    query string and posted fields with a 400 page that says what is wrong, before the view and
    the access check read them: Postgres cannot hold NUL (a server error, on Postgres only) and
    nobody types the others. Tab, CR and LF are allowed in posted values (a textarea's lines);
    forms check the shape of the rest. It runs in process_view, so the page is rendered for the
    signed-in user, and must come before RoleAccessMiddleware, whose refusal is audited.

    A view marked accepts_control_characters (Twilio's webhooks) gets its posted fields as sent
    and cleans them itself. A NUL that still reaches the database (a header, a cookie) is caught
    by process_exception: a 400 page and a warning in the log, not a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not self._refused(request, view_func):
            return None
        logger.warning("Control character refused on %r", request.path)
        return _control_character_page(request)

    @staticmethod
    def _refused(request, view_func) -> bool:
        if has_control_characters(request.path) or any(
            has_control_characters(key) or any(has_control_characters(v) for v in values)
            for key, values in request.GET.lists()
        ):
            return True
        if request.method != "POST" or getattr(view_func, "accepts_control_characters", False):
            return False
        # Uploaded files' names need no check: Django drops their unprintable characters.
        return any(
            has_control_characters(key)
            or any(has_control_characters(v, multiline=True) for v in values)
            for key, values in request.POST.lists()
        )

    def process_exception(self, request, exception):
        # psycopg's words for a NUL in a parameter, and Postgres's for one in JSON.
        nul = (isinstance(exception, ValueError) and "NUL (0x00)" in str(exception)) or (
            isinstance(exception, DataError) and "\\u0000" in str(exception)
        )
        if not nul:
            return None
        logger.warning("NUL reached the database on %r: %s", request.path, exception)
        return _control_character_page(request)


def _control_character_page(request):
    """The 400 page, in the public pages' dress on a page a patient opens (/book/, a survey
    link): the hospital's, not the staff product's."""
    match = getattr(request, "resolver_match", None)
    public = match is not None and PAGE_ACCESS.get(match.view_name) == PUBLIC
    return render(request, "400_control_characters.html", {"public": public}, status=400)


class NotFoundPageMiddleware:
    """With DEBUG on (`make run`, the demo), an unknown address still gets the product's 404 page,
    not Django's technical one, which lists every URL pattern and is no page for staff trying the
    demo. Not loaded without DEBUG (Django renders the product's page itself), nor when a
    developer asks for the technical page (settings.DEBUG_TECHNICAL_404).

    An address that resolves to nothing never reaches a view, so it is resolved here first; a
    view's Http404 (a record that does not exist) is caught in process_exception. Placed after
    CommonMiddleware, whose answer to a 404 (the address with a slash appended) still applies."""

    def __init__(self, get_response):
        if not settings.DEBUG or settings.DEBUG_TECHNICAL_404:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        try:
            resolve(request.path_info, urlconf=getattr(request, "urlconf", None))
        except Resolver404 as exception:
            return page_not_found(request, exception)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, Http404):
            return page_not_found(request, exception)
        return None
