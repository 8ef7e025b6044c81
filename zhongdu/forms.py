import datetime
import re
import uuid

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_otp.forms import OTPAuthenticationFormMixin
from two_factor import forms as two_factor_forms

from . import audit
from .models import AuditEvent

# The days a form accepts: a birthday in 1900 and a plan to 2099 are real; 0001-01-01 and
# 9999-12-31 are typing mistakes, and a day before or after them is not a date Python can hold.
FIRST_DAY = datetime.date(1900, 1, 1)
LAST_DAY = datetime.date(2099, 12, 31)
OUT_OF_RANGE = _("Enter a date between %(first)s and %(last)s.")


def _check_day(day: datetime.date | None) -> None:
    if day is not None and not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationError(
            OUT_OF_RANGE,
            code="out_of_range",
            params={"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
        )


# The days a page of figures may show (a day's or a week's): the hospital's own years; beyond
# them a date is a typing mistake, and the previous/next links must stay within what a date can
# hold.
SHOWN_FIRST_DAY = datetime.date(2000, 1, 1)
SHOWN_LAST_DAY = LAST_DAY


class DayPickerForm(forms.Form):
    """The GET form above a page of one day's or one week's figures: one optional day field
    (`day_field`, labelled `day_label`). A missing or malformed day is not an error page: the
    view shows today and the form says what was wrong."""

    day_field = "date"
    day_label = _("Day")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[self.day_field] = forms.DateField(
            label=self.day_label,
            required=False,
            widget=forms.DateInput({"type": "date"}, format="%Y-%m-%d"),
            error_messages={"invalid": _("Write the day as 2026-03-01.")},
        )
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_class = "d-print-none mb-3"
        self.helper.disable_csrf = True
        self.helper.layout = Row(
            Column(self.day_field, css_class="col-sm-6 col-md-4 col-lg-3"),
            Column(Submit("show", _("Show")), css_class="col-auto align-self-end mb-3"),
        )

    def clean(self):
        cleaned = super().clean()
        day = cleaned.get(self.day_field)
        if day is not None and not SHOWN_FIRST_DAY <= day <= SHOWN_LAST_DAY:
            self.add_error(
                self.day_field,
                _("Choose a day between %(first)s and %(last)s.")
                % {"first": SHOWN_FIRST_DAY.isoformat(), "last": SHOWN_LAST_DAY.isoformat()},
            )
        return cleaned

    @property
    def day(self) -> datetime.date | None:
        """The day asked for, or None when it is missing or malformed."""
        return self.cleaned_data.get(self.day_field) if self.is_valid() else None


def error_text(exc: ValidationError) -> str:
    """What a refused action says to the user: the messages of a service's ValidationError as
    one line, for a flash message."""
    return " ".join(exc.messages)


class DayField(forms.DateField):
    """A date within FIRST_DAY..LAST_DAY, typed in a date input unless told otherwise."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}))
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        _check_day(value)


# The largest row id a form takes (the <id:> URL converter's 18 digits): beyond it a number is a
# typing mistake, and SQLite cannot bind it at all.
MAX_ID = 10**18 - 1


class IdField(forms.IntegerField):
    """A row id: 1..MAX_ID. A message for "min_value" is used for "max_value" too."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        messages = kwargs.get("error_messages") or {}
        if "min_value" in messages:
            kwargs["error_messages"] = {"max_value": messages["min_value"], **messages}
        super().__init__(**kwargs)


class MomentField(forms.DateTimeField):
    """A date and time whose day is within FIRST_DAY..LAST_DAY."""

    def validate(self, value):
        super().validate(value)
        _check_day(value.date() if value else None)


class FormKeyField(forms.CharField):
    """A form's one-time key (hidden): made when the blank form is shown (`new_form_key`) and
    sent back with it, so the service writes one record per key and a double click on "save"
    finds the first instead of writing a second. Anything but a key we made cleans to ""."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 32)
        super().__init__(**kwargs)

    def clean(self, value):
        value = (value or "").strip()
        return value if re.fullmatch(r"[0-9a-f]{32}", value) else ""


def new_form_key() -> str:
    return uuid.uuid4().hex


class AuditFilterForm(forms.Form):
    username = forms.CharField(label=_("Username"), required=False, max_length=150)
    action = forms.ChoiceField(
        label=_("Action"),
        required=False,
        choices=[("", _("All actions")), *AuditEvent.Action.choices],
    )
    # The records by the names staff use (zhongdu.audit.object_types); the value is the type the
    # trail holds, so an address written with "clientmgmt.client" still filters.
    object_type = forms.ChoiceField(label=_("Record"), required=False)
    object_id = forms.CharField(label=_("Record number"), required=False, max_length=64)
    date_from = DayField(label=_("From"), required=False)
    date_to = DayField(label=_("To"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        types = sorted(audit.object_types().items(), key=lambda item: str(item[1]))
        self.fields["object_type"].choices = [("", _("All records")), *types]
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.layout = Layout(
            Row(
                Column("username", css_class="col-md-2"),
                Column("action", css_class="col-md-2"),
                Column("object_type", css_class="col-md-2"),
                Column("object_id", css_class="col-md-2"),
                Column("date_from", css_class="col-md-2"),
                Column("date_to", css_class="col-md-2"),
            ),
            Submit("filter", _("Filter"), css_class="btn-primary"),
        )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The start date must not be after the end date."))
        return cleaned


# --- Two-factor sign-in ------------------------------------------------------------------------
# django-two-factor-auth's forms with the project's own words: the library ships no zh_Hans
# catalogue (only zh_CN, which Django does not use for zh-hans), so its labels and messages would
# stay English on a Chinese page.

_CODE_WIDGET_ATTRS = {
    "autofocus": "autofocus",
    "inputmode": "numeric",
    "autocomplete": "one-time-code",
    "pattern": "[0-9]*",
}
WRONG_CODE = _(
    "That code is not right. Enter the six digits your authenticator app shows now (check that "
    "the phone's clock is right)."
)
_OTP_ERROR_MESSAGES = {
    **OTPAuthenticationFormMixin.otp_error_messages,
    "token_required": _("Enter the code from your authenticator app."),
    "invalid_token": WRONG_CODE,
    "n_failed_attempts": _(
        "Too many wrong codes in a row (%(failure_count)d). Wait a moment, then try again."
    ),
    "verification_not_allowed": _("Codes cannot be checked at the moment. Try again shortly."),
}


class SignInCodeForm(two_factor_forms.AuthenticationTokenForm):
    """The sign-in wizard's second step: the six digits of the user's authenticator app."""

    otp_token = forms.RegexField(
        label=_("Code from your authenticator app"),
        regex=r"^[0-9]*$",
        min_length=6,
        max_length=6,
        error_messages={"invalid": WRONG_CODE},
        widget=forms.TextInput(attrs=_CODE_WIDGET_ATTRS),
    )
    otp_error_messages = _OTP_ERROR_MESSAGES


class BackupCodeForm(two_factor_forms.BackupTokenForm):
    """The sign-in wizard's last resort: a printed backup code (each works once)."""

    otp_token = forms.CharField(
        label=_("Backup code"),
        max_length=16,
        widget=forms.TextInput(attrs={"autofocus": "autofocus", "autocomplete": "off"}),
    )
    otp_error_messages = {
        **_OTP_ERROR_MESSAGES,
        "invalid_token": _("That backup code is not valid."),
    }


class EnrolCodeForm(two_factor_forms.TOTPDeviceForm):
    """Setting up an authenticator app: the first code it shows proves it holds the secret."""

    token = forms.IntegerField(
        label=_("Code from your authenticator app"),
        min_value=0,
        max_value=999999,
        error_messages={"invalid": WRONG_CODE, "max_value": WRONG_CODE, "min_value": WRONG_CODE},
        widget=forms.TextInput(attrs=_CODE_WIDGET_ATTRS),
    )
    error_messages = {"invalid_token": WRONG_CODE}


class TwoFactorDisableForm(two_factor_forms.DisableForm):
    understand = forms.BooleanField(
        label=_("Yes, turn off two-factor sign-in for my account"),
        error_messages={"required": _("Tick the box to confirm.")},
    )
