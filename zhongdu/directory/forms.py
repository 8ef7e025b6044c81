from django import forms
from django.utils.translation import gettext_lazy as _

from zhongdu.models import ClinicSession

from .services import clinic_session_capacity_check


class ClinicSessionAdminForm(forms.ModelForm):
    """The admin's session form, also used for the change list's editable capacity column."""

    class Meta:
        model = ClinicSession
        fields = (
            "template",
            "expert",
            "department",
            "date",
            "start_time",
            "end_time",
            "capacity",
        )

    def clean_capacity(self):
        capacity = self.cleaned_data["capacity"]
        # `booked` is read-only in the admin: it is what the instance holds. A booking that lands
        # between this check and the save is stopped by the session_not_overbooked constraint.
        clinic_session_capacity_check(session=self.instance, capacity=capacity)
        return capacity


class CancelSessionsForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        help_text=_("Kept on each session, for the booking desk and the callers."),
    )
