# Forms of the front desk's charges and day figures: they check the shape of input; services
# enforce business rules. (guide/forms.py holds the arrival forms; these live apart so that the
# two can be written at the same time.)
import datetime

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Row, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from clientmgmt.imports import MAX_BYTES
from zhongdu.forms import FormKeyField

# The day figures cover the hospital's own years; beyond them a date is a typing mistake (and
# the previous/next day links must stay within what a date can hold).
FIRST_DAY = datetime.date(2000, 1, 1)
LAST_DAY = datetime.date(2099, 12, 31)


class DayForm(forms.Form):
    """The day of the figures page; a missing or malformed day falls back to today."""

    date = forms.DateField(
        label=_("Day"),
        required=False,
        widget=forms.DateInput({"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Write the day as 2026-03-01.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_class = "d-print-none mb-3"
        self.helper.disable_csrf = True
        self.helper.layout = Row(
            Column("date", css_class="col-sm-6 col-md-4 col-lg-3"),
            Column(Submit("show", _("Show")), css_class="col-auto align-self-end mb-3"),
        )

    def clean_date(self):
        day = self.cleaned_data["date"]
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise forms.ValidationError(
                _("Choose a day between %(first)s and %(last)s.")
                % {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()}
            )
        return day


class ChargeVoidForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for voiding"),
        max_length=200,
        error_messages={"required": _("Give the reason for voiding this charge.")},
    )


class ChargeImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Billing file"),
        # The limits are written out: a lazy text formatted here would be fixed in the language
        # of import time (imports.MAX_ROWS, clientmgmt.imports.MAX_BYTES).
        help_text=_(
            "A .csv (UTF-8 or GBK) or .xlsx file exported by the billing system, of at most "
            "5,000 rows and 5 MB."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    key = FormKeyField()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        # Refused before it is read into memory (read_table checks the bytes it is given).
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than 5 MB; split it into smaller files.")
            )
        return upload
