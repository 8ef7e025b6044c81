# Forms of Consultation desk: they check the shape of input; services enforce business rules.
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Row, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from zhongdu.models import ClinicSession, Department, Expert

from .models import Booking


def _inline_helper(submit_label):
    helper = FormHelper()
    helper.form_method = "get"
    helper.form_class = "d-print-none mb-3"
    helper.disable_csrf = True
    return helper, Submit("show", submit_label, css_class="btn-outline-primary")


class BookingFilterForm(forms.Form):
    """The day list's filters; anything malformed falls back to today / no filter."""

    date = forms.DateField(label=_("Day"), required=False, widget=forms.DateInput({"type": "date"}))
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.filter(active=True), required=False
    )
    expert = forms.ModelChoiceField(
        label=_("Expert"), queryset=Expert.objects.filter(active=True), required=False
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("All")), *Booking.Status.choices],
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper, submit = _inline_helper(_("Show"))
        self.helper.layout = Row(
            *(Column(name, css_class="col-sm-6 col-lg") for name in self.fields),
            Column(submit, css_class="col-auto align-self-end mb-3"),
        )


class SessionFilterForm(forms.Form):
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.filter(active=True), required=False
    )
    expert = forms.ModelChoiceField(
        label=_("Expert"), queryset=Expert.objects.filter(active=True), required=False
    )
    client = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper, submit = _inline_helper(_("Show sessions"))
        self.helper.layout = Row(
            Column("department", css_class="col-sm"),
            Column("expert", css_class="col-sm"),
            "client",
            Column(submit, css_class="col-auto align-self-end mb-3"),
        )


class BookingForm(forms.Form):
    """The session is chosen in the table of free sessions (radio buttons named `session`)."""

    session = forms.ModelChoiceField(
        queryset=ClinicSession.objects.all(),
        error_messages={
            "required": _("Choose a session."),
            "invalid_choice": _("Choose a session."),
        },
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Booking.Kind.choices)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class RescheduleForm(forms.Form):
    session = forms.ModelChoiceField(
        label=_("New session"),
        queryset=ClinicSession.objects.all(),
        error_messages={
            "required": _("Choose a session."),
            "invalid_choice": _("Choose a session."),
        },
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the cancellation"),
        max_length=200,
        error_messages={"required": _("Give the reason for the cancellation.")},
    )
