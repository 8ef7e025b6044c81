"""Forms of Reports: making a missing monthly pack.

No one-time key (CONVENTIONS.md 21): the month is the pack's key. The unique index
(month, is_pack) lets one pack per month exist, so a double click finds the pack the first
click made (reports.packs.pack_make)."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class PackMakeForm(forms.Form):
    month = forms.TypedChoiceField(label=_("Month"), coerce=str)
    confirm = forms.BooleanField(
        label=_("I understand that the pack is made from today's figures and never changes."),
        error_messages={"required": _("Tick the box to confirm.")},
    )

    def __init__(self, *args, months=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.months = {f"{month:%Y-%m}": month for month in months}
        self.fields["month"].choices = [(key, key) for key in self.months]
        self.helper = FormHelper()
        self.helper.form_method = "post"
        self.helper.form_action = reverse("reports:pack_make")
        self.helper.add_input(Submit("make", _("Make the pack"), css_class="btn-primary"))

    def clean_month(self):
        return self.months[self.cleaned_data["month"]]
