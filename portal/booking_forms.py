"""The bookings part's forms: the shape of what is sent; the rules are in portal.bookings."""

from django import forms
from django.utils.translation import gettext_lazy as _

from zhongdu.forms import FormKeyField
from zhongdu.models import ClinicSession

from .bookings import departments_open, experts_open

CHOOSE_SESSION = {"required": _("Choose a session."), "invalid_choice": _("Choose a session.")}


class SessionFilterForm(forms.Form):
    """Which sessions to list: a department's or an expert's (GET)."""

    department = forms.ModelChoiceField(
        label=_("Department"), queryset=departments_open(), required=False
    )
    expert = forms.ModelChoiceField(label=_("Expert"), queryset=experts_open(), required=False)

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {key: value for key, value in self.cleaned_data.items() if value is not None}


class PortalBookingForm(forms.Form):
    """The session is chosen among the open ones (radio buttons named `session`)."""

    session = forms.ModelChoiceField(
        queryset=ClinicSession.objects.all(), error_messages=CHOOSE_SESSION
    )
    key = FormKeyField()


class PortalRescheduleForm(forms.Form):
    session = forms.ModelChoiceField(
        queryset=ClinicSession.objects.all(), error_messages=CHOOSE_SESSION
    )


class PortalCancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), max_length=200, required=False)
