# Forms of the front desk's charges and day figures: they check the shape of input; services
# enforce business rules. (guide/forms.py holds the arrival forms; these live apart so that the
# two can be written at the same time.)

from django import forms
from django.utils.translation import gettext_lazy as _

from clientmgmt.imports import MAX_BYTES
from zhongdu.forms import DayPickerForm, FormKeyField


class DayForm(DayPickerForm):
    """The day of the figures page; a missing or malformed day falls back to today."""


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
