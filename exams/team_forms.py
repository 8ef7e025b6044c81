"""The form of an enterprise's exam round (exams.team_views)."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.utils.translation import gettext_lazy as _

from zhongdu.forms import DayField, FormKeyField

from .models import ExamRound
from .teams import ROUND_FIELDS


class ExamRoundForm(forms.ModelForm):
    """A round's name, dates and the advice to the employer. The dates' order is checked here and
    again by the service (exams.teams.round_create / round_update)."""

    starts_on = DayField(
        label=_("From"), error_messages={"required": _("Enter the round's first day.")}
    )
    ends_on = DayField(
        label=_("Until"), error_messages={"required": _("Enter the round's last day.")}
    )
    key = FormKeyField()

    class Meta:
        model = ExamRound
        fields = list(ROUND_FIELDS)
        widgets = {"advice": forms.Textarea({"rows": 6})}
        error_messages = {"name": {"required": _("Enter the round's name.")}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["starts_on"].widget.format = "%Y-%m-%d"
        self.fields["ends_on"].widget.format = "%Y-%m-%d"
        self.fields["advice"].help_text = _(
            "Shown on the report and in its PDF for the employer: write about the group, never"
            " about a person."
        )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            "name", Row(Column("starts_on"), Column("ends_on")), "advice", "key"
        )

    def clean_name(self):
        return " ".join(self.cleaned_data["name"].split())

    def clean(self):
        data = super().clean()
        starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", _("The round cannot end before it starts."))
        return data

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in ROUND_FIELDS}
