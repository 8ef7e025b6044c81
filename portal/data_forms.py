"""My data's forms: the person's request to correct or delete, staff's decision, and the
client page's dependant authorisation."""

from django import forms
from django.utils.translation import gettext_lazy as _

from zhongdu import phones
from zhongdu.forms import FormKeyField

from .data import DECISIONS
from .models import DataRequest


class DataRequestForm(forms.Form):
    key = FormKeyField()
    kind = forms.ChoiceField(
        label=_("What do you ask?"), choices=DataRequest.Kind.choices, widget=forms.RadioSelect
    )
    text = forms.CharField(
        label=_("Which information, and what should it say?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class DecisionForm(forms.Form):
    status = forms.ChoiceField(label=_("Decision"), choices=DECISIONS, widget=forms.RadioSelect)
    answer = forms.CharField(
        label=_("Answer to the person"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The person reads it on the portal. Say what was changed or why not."),
    )


class DependantForm(forms.Form):
    holder_phone = forms.CharField(
        label=_("Mobile number the other person signs in with"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    relation = forms.CharField(label=_("Relation (e.g. mother)"), max_length=30)
    evidence = forms.CharField(label=_("Evidence seen (e.g. household register)"), max_length=200)

    def clean_holder_phone(self):
        try:
            phone = phones.normalise(self.cleaned_data["holder_phone"])
        except forms.ValidationError:
            phone = ""
        if not phones.classify(phone).mobile:
            raise forms.ValidationError(_("Enter a valid mobile number, e.g. 138 1234 5678."))
        return phone
