"""The assessment page's form: the findings picked, the assessment and the six headings."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from zhongdu.controlchars import has_control_characters

from .assessment import HEADING_LABELS
from .models import Finding
from .models.assessment import PLAN_HEADINGS


class FindingChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class AssessmentForm(forms.Form):
    findings = FindingChoiceField(
        label=_("Findings of the exam"),
        queryset=Finding.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Choose among the findings listed.")},
    )
    assessment = forms.CharField(
        label=_("Health assessment"),
        required=False,
        max_length=4000,
        widget=forms.Textarea({"rows": 4, "class": "form-control"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["findings"].queryset = Finding.objects.filter(active=True).order_by("name")
        for name in PLAN_HEADINGS:
            self.fields[name] = forms.CharField(
                label=HEADING_LABELS[name],
                required=False,
                max_length=4000,
                widget=forms.Textarea({"rows": 3, "class": "form-control"}),
            )

    def clean(self):
        """No invisible control character in the texts (line breaks and tabs are kept): each
        field so marked keeps what was typed and says so."""
        cleaned = super().clean()
        for name in (*PLAN_HEADINGS, "assessment"):
            if has_control_characters(cleaned.get(name) or "", multiline=True):
                self.add_error(
                    name,
                    ValidationError(
                        _("This text contains an invisible control character; type it again."),
                        code="control_character",
                    ),
                )
        return cleaned

    def texts(self) -> dict:
        return {name: self.cleaned_data.get(name, "") for name in (*PLAN_HEADINGS, "assessment")}
