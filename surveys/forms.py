# Forms of the survey pages: they check the shape of input; surveys.services enforces the rules
# (scores in range, a used or expired link). Kept apart from the calls' and plans' forms.
import datetime

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from messaging.forms import SegmentFields
from zhongdu.forms import DayPickerForm, FormKeyField, MomentField, new_form_key
from zhongdu.models import Department

from .models import SurveyQuestion, SurveyResponse, SurveyTemplate

Type = SurveyQuestion.Type
SCALES = {
    Type.SCALE: [(str(n), str(n)) for n in range(1, 6)],
    Type.RECOMMEND: [(str(n), str(n)) for n in range(11)],
}
REQUIRED_MESSAGES = {
    Type.SCALE: _("Please choose a score from 1 to 5."),
    Type.RECOMMEND: _("Please choose a score from 0 to 10."),
    Type.CHOICE: _("Please choose one answer."),
    Type.TEXT: _("Please write a few words."),
}


class SurveyForm(forms.Form):
    """One field per question of the template, named q<question id>, labelled in the reader's
    language (the English text where it is filled in, else the Chinese)."""

    def __init__(self, *args, template, english: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(template.questions.all())
        for question in self.questions:
            label = (question.text_en if english else "") or question.text
            errors = {"required": REQUIRED_MESSAGES[question.type]}
            if question.type in SCALES:
                field = forms.ChoiceField(
                    choices=SCALES[question.type], widget=forms.RadioSelect, error_messages=errors
                )
            elif question.type == Type.CHOICE:
                field = forms.ChoiceField(
                    choices=question.choice_list("en" if english else "zh-hans"),
                    widget=forms.RadioSelect,
                    error_messages=errors,
                )
            else:
                field = forms.CharField(
                    max_length=2000,
                    widget=forms.Textarea({"rows": 4, "class": "form-control"}),
                    error_messages=errors,
                )
            field.label = label
            field.required = question.required
            self.fields[self.field_name(question)] = field

    @staticmethod
    def field_name(question) -> str:
        return f"q{question.pk}"

    @property
    def items(self) -> list[dict]:
        """What the page draws, question by question, numbered."""
        return [
            {
                "number": number,
                "question": question,
                "kind": question.type,
                "field": self[self.field_name(question)],
            }
            for number, question in enumerate(self.questions, start=1)
        ]

    def answers(self) -> dict:
        """{question id: value} as surveys.services.survey_submit takes them."""
        return {
            question.pk: self.cleaned_data.get(self.field_name(question), "")
            for question in self.questions
        }


class WeekForm(DayPickerForm):
    """Any day of the week to show; this week when it is missing or malformed."""

    day_field = "week"
    day_label = _("Any day of the week")


class ResponseFilterForm(WeekForm):
    RECOVERY_CHOICES = [
        ("", pgettext_lazy("filter", "Any")),
        ("yes", _("Needs service recovery")),
        ("no", _("No recovery needed")),
    ]

    source = forms.ChoiceField(
        label=_("Source"),
        required=False,
        choices=[("", pgettext_lazy("filter", "Any")), *SurveyResponse.Source.choices],
    )
    recovery = forms.ChoiceField(label=_("Recovery"), required=False, choices=RECOVERY_CHOICES)
    department = forms.ModelChoiceField(
        label=_("Department"),
        required=False,
        queryset=Department.objects.order_by("sort_order", "name"),
        empty_label=_("All departments"),
    )

    field_order = ["source", "recovery", "department", "week"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["week"].label = _("Week of")
        self.helper.layout = Row(
            Column("source", css_class="col-6 col-md-3 col-lg-2"),
            Column("recovery", css_class="col-6 col-md-3 col-lg-2"),
            Column("department", css_class="col-6 col-md-3 col-lg-2"),
            Column("week", css_class="col-6 col-md-3 col-lg-2"),
            Column(Submit("filter", _("Filter")), css_class="col-auto align-self-end mb-3"),
        )

    def filters(self) -> dict:
        """The keyword arguments of surveys.selectors.response_list."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        recovery = {"yes": True, "no": False}.get(data["recovery"])
        return {
            "source": data["source"],
            "needs_recovery": recovery,
            "department": data["department"],
            "week": data["week"],
        }


class SurveyRoundForm(SegmentFields):
    """A market survey round: the survey, the segment (messaging's campaign segment) and when the
    SMS go out."""

    name = forms.CharField(label=_("Survey name"), max_length=100)
    template = forms.ModelChoiceField(
        label=_("Questionnaire"),
        queryset=SurveyTemplate.objects.filter(kind=SurveyTemplate.Kind.MARKET, active=True),
        empty_label=None,
        error_messages={"invalid_choice": _("Choose one of the market surveys offered.")},
    )
    send_at = MomentField(
        label=_("Send at"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Marketing SMS wait for the end of the quiet hours."),
    )

    # A one-time key made when the form is first shown and sent back with every POST: the
    # service makes one round per key, so a double click asks the segment once.
    key = FormKeyField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["key"] = new_form_key()
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(Column("name", css_class="col-md-6"), Column("template", css_class="col-md-6")),
            self.segment_row(),
            Row(Column("send_at", css_class="col-md-4")),
            "key",
        )

    def clean_send_at(self):
        value = self.cleaned_data["send_at"]
        if value < timezone.now() - datetime.timedelta(minutes=5):
            raise forms.ValidationError(_("Choose a time that has not passed."))
        return value
