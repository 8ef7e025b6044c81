"""Forms of Reports: making a missing monthly pack; the drill-down list's period and channel.

No one-time key for a pack (CONVENTIONS.md 21): the month is the pack's key. The unique index
(month, is_pack) lets one pack per month exist, so a double click finds the pack the first
click made (reports.packs.pack_make). The drill-down form checks shape only: anything malformed
falls back to the month to date, with a message."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zhongdu.forms import DayField

# The longest period a drill-down list covers (a year and a day: a leap year's January to
# January).
MAX_DAYS = 367


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


class RecordsForm(forms.Form):
    start = DayField(label=_("From"), required=False)
    end = DayField(label=_("To"), required=False)
    channel = forms.IntegerField(label=_("Channel"), required=False, min_value=0)

    def __init__(self, data=None, **kwargs):
        # "from" is a Python keyword: the query string's names are mapped to the fields'.
        if data is not None:
            data = {
                "start": data.get("from", ""),
                "end": data.get("to", ""),
                "channel": data.get("channel", ""),
            }
        super().__init__(data, **kwargs)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                raise ValidationError(_("The end of the period is before its start."))
            if (end - start).days >= MAX_DAYS:
                raise ValidationError(_("Choose a period of at most a year."))
        return cleaned
