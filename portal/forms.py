from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from zhongdu import phones


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"inputmode": "tel", "autocomplete": "tel", "placeholder": "138 0000 0000"}
        ),
    )

    def clean_phone(self):
        try:
            phone = phones.normalise(self.cleaned_data["phone"])
        except forms.ValidationError:
            phone = ""
        if not phones.classify(phone).mobile:
            raise forms.ValidationError(_("Enter a valid mobile number, e.g. 138 1234 5678."))
        return phone


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the SMS"),
        max_length=6,
        min_length=6,
        validators=[RegexValidator(r"^\d{6}$", _("The code is six digits."))],
        error_messages={
            "min_length": _("The code is six digits."),
            "max_length": _("The code is six digits."),
        },
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": r"\d{6}"}
        ),
    )
