"""Two-factor sign-in: django-two-factor-auth's views with the project's forms, templates and
rule of who must use it (zhongdu.roles.two_factor_required). The sign-in stays at
/accounts/login/ (URL name "login"); the enrolment pages live under /accounts/two_factor/ in the
library's "two_factor" namespace, which its templates and views reverse."""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from two_factor import views as two_factor_views

from . import audit
from .forms import BackupCodeForm, EnrolCodeForm, SignInCodeForm, TwoFactorDisableForm
from .roles import two_factor_required


class LoginView(two_factor_views.LoginView):
    """Password, then (for a user with a device) the authenticator app's code or a backup code.
    A user without a device is signed in by the password; TwoFactorMiddleware then sends the
    roles that must use two-factor sign-in to enrol before any page."""

    redirect_authenticated_user = True

    def get_prefix(self, request, *args, **kwargs):
        # The wizard's field names (login_view-current_step, auth-username) are its contract with
        # the sign-in form, the browser tests and axes (zhongdu.audit.SIGN_IN_USERNAME_FIELD):
        # formtools derives them from the view's class name; fixed here, whatever it is called.
        return "login_view"

    def get_form_list(self):
        form_list = super().get_form_list()
        for step, form_class in (
            (self.TOKEN_STEP, SignInCodeForm),
            (self.BACKUP_STEP, BackupCodeForm),
        ):
            if step in form_list:
                form_list[step] = form_class
        return form_list

    def get_form(self, step=None, **kwargs):
        # The library adds its own (English only) words when the code came too late after the
        # password (TWO_FACTOR_LOGIN_TIMEOUT); these are the project's.
        timed_out, self.show_timeout_error = self.show_timeout_error, False
        try:
            form = super().get_form(step=step, **kwargs)
        finally:
            self.show_timeout_error = timed_out
        if timed_out:
            form.cleaned_data = getattr(form, "cleaned_data", {})
            form.add_error(None, _("The code came too long after the password: sign in again."))
        return form

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(form, **kwargs)
        context["next"] = self.get_redirect_url()  # carried through the steps, checked as safe
        return context

    def render(self, form=None, **kwargs):
        # A wrong code is a failed sign-in like a wrong password (which Django's signal records):
        # the password was right, so the trail should show someone holds it.
        if (
            self.steps.current != self.AUTH_STEP
            and form is not None
            and form.is_bound
            and form.errors
        ):
            user = self.get_user()
            audit.record(
                audit.Action.LOGIN_FAILED,
                username=user.get_username() if user else "",
                reason="wrong two-factor code",
                request=self.request,
            )
        return super().render(form, **kwargs)


class SetupView(two_factor_views.SetupView):
    """Enrolling an authenticator app: the secret as a QR code and as text, then its first code."""

    def get_form_list(self):
        form_list = super().get_form_list()
        if "generator" in form_list:
            form_list["generator"] = EnrolCodeForm
        return form_list

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(form, **kwargs)
        context["required"] = two_factor_required(self.request.user)
        return context

    def done(self, form_list, **kwargs):
        response = super().done(form_list, **kwargs)
        messages.success(
            self.request,
            _(
                "Two-factor sign-in is on: from now on you sign in with your password and a code"
                " from the app. Print backup codes (Account security, in the user menu) in case"
                " you lose your phone."
            ),
        )
        return response


class ProfileView(two_factor_views.ProfileView):
    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["required"] = two_factor_required(self.request.user)
        return context


class DisableView(two_factor_views.DisableView):
    """Turning two-factor sign-in off, for those whose roles do not require it. Those who must
    use it cannot: a lost phone is for an administrator to remove (then they enrol again)."""

    form_class = TwoFactorDisableForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and two_factor_required(request.user):
            messages.error(
                request,
                _(
                    "Your role must sign in with two factors, so it cannot be turned off. If you"
                    " lost your phone, sign in with a backup code or ask an administrator."
                ),
            )
            return redirect("two_factor:profile")
        return super().dispatch(request, *args, **kwargs)
