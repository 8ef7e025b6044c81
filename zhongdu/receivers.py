"""Sign-in events from django.contrib.auth, written to the audit trail. Signals are the only way
Django reports them; nothing else in the project reacts to signals."""

import time

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from . import audit
from .middleware import SESSION_DEVICE_CHECKED, SESSION_LAST_SEEN, SESSION_STARTED


@receiver(user_logged_in, dispatch_uid="zhongdu_audit_login")
def on_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SESSION_STARTED] = now
        request.session[SESSION_LAST_SEEN] = now
        # A sign-in with a code has just found its device (zhongdu.middleware.OTPMiddleware).
        request.session[SESSION_DEVICE_CHECKED] = now
    audit.record(audit.Action.LOGIN, actor=user, request=request)


@receiver(user_logged_out, dispatch_uid="zhongdu_audit_logout")
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        audit.record(audit.Action.LOGOUT, actor=user, request=request)


@receiver(user_login_failed, dispatch_uid="zhongdu_audit_login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    audit.record(
        audit.Action.LOGIN_FAILED,
        username=str(credentials.get("username", ""))[:150],
        request=request,
    )
