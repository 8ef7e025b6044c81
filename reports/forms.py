"""Forms of Reports: the drill-down list's period and channel (shape only; anything malformed
falls back to the month to date, with a message)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from zhongdu.forms import DayField

# The longest period a drill-down list covers (a year and a day: a leap year's January to
# January).
MAX_DAYS = 367


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
