# Forms of the care-plan pages: they check the shape of input; the services (followup.services)
# make the calls and SMS of each timepoint, once, and refuse changes to a plan that is not live.
from django import forms
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from messaging.models import SmsTemplate
from zhongdu.forms import DayField, IdField

from . import selectors
from .models import CarePlan

_DATE_INVALID = _("Enter a date, for example 2026-03-01.")
CARE_TEXTS = ("diagnosis", "treatment_plan", "diet", "rehab", "lifestyle")
HEALTH_TEXTS = ("exercise", "mental_health", "prevention")


def _date_widget():
    return forms.DateInput({"type": "date"}, format="%Y-%m-%d")


class TemplateChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        if obj.department_id:
            return f"{obj.name} · {obj.department.name}"
        return obj.name


class PlanChooserForm(forms.Form):
    """Step one of a new plan (a GET form): the template and the day the timepoints count
    from. Changing them redraws the page with the template's texts and timepoints."""

    template = TemplateChoiceField(
        label=_("Plan template"),
        queryset=selectors.plan_templates(),
        required=False,
        error_messages={"invalid_choice": _("Choose one of the plan templates.")},
    )
    starts_on = DayField(
        label=_("Timepoints count from"),
        required=False,
        widget=_date_widget(),
        error_messages={"invalid": _DATE_INVALID},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = selectors.plan_templates()
        self.fields["template"].empty_label = _("No template: write the plan from scratch")
        self.fields["template"].widget.attrs["class"] = "form-select"
        self.fields["starts_on"].widget.attrs["class"] = "form-control"


class PlanTextsForm(forms.Form):
    """The advice written on the plan; a health-management plan adds exercise, mental health
    and prevention."""

    diagnosis = forms.CharField(label=_("Diagnosis summary"), required=False, max_length=4000)
    treatment_plan = forms.CharField(label=_("Treatment plan"), required=False, max_length=4000)
    diet = forms.CharField(label=_("Diet"), required=False, max_length=4000)
    rehab = forms.CharField(label=_("Rehabilitation"), required=False, max_length=4000)
    lifestyle = forms.CharField(label=_("Lifestyle"), required=False, max_length=4000)
    exercise = forms.CharField(label=_("Exercise"), required=False, max_length=4000)
    mental_health = forms.CharField(label=_("Mental health"), required=False, max_length=4000)
    prevention = forms.CharField(label=_("Prevention"), required=False, max_length=4000)

    def __init__(self, *args, kind=CarePlan.Kind.CARE, **kwargs):
        super().__init__(*args, **kwargs)
        if kind != CarePlan.Kind.HEALTH:
            for name in HEALTH_TEXTS:
                del self.fields[name]
        for field in self.fields.values():
            field.widget = forms.Textarea({"rows": 2, "class": "form-control"})


class SmsTemplateChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} · {obj.get_purpose_display()}"


class StepForm(forms.Form):
    """One timepoint: its date, label, whether someone calls, the call's script, the SMS sent on
    the day; `remove` leaves it out (or cancels what it planned)."""

    id = IdField(required=False, widget=forms.HiddenInput)
    due_on = DayField(
        label=_("Date"),
        required=False,
        widget=_date_widget(),
        error_messages={"invalid": _DATE_INVALID},
    )
    label = forms.CharField(label=_("Label"), max_length=60, required=False)
    call = forms.BooleanField(label=_("Return-visit call"), required=False, initial=True)
    script = forms.CharField(
        label=_("Call script"),
        max_length=2000,
        required=False,
        widget=forms.Textarea({"rows": 1}),
    )
    sms_template = SmsTemplateChoiceField(
        label=_("SMS"),
        queryset=SmsTemplate.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("Choose one of the SMS templates.")},
    )
    remove = forms.BooleanField(label=_("Remove"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sms_template"].queryset = SmsTemplate.objects.filter(active=True)
        self.fields["sms_template"].empty_label = pgettext_lazy("care plan timepoint", "No SMS")
        for name in ("due_on", "label", "script"):
            self.fields[name].widget.attrs["class"] = "form-control form-control-sm"
        self.fields["sms_template"].widget.attrs["class"] = "form-select form-select-sm"
        for name in ("call", "remove"):
            self.fields[name].widget.attrs["class"] = "form-check-input"

    def clean(self):
        data = super().clean()
        if not data.get("remove") and not data.get("due_on") and "due_on" not in self.errors:
            self.add_error("due_on", _("Give the timepoint's date."))
        return data


class BaseStepFormSet(forms.BaseFormSet):
    @cached_property
    def forms(self):
        forms = super().forms
        # One query for the SMS templates every row offers, not one per row.
        if forms:
            choices = list(forms[0].fields["sms_template"].choices)
            for form in forms[1:]:
                form.fields["sms_template"].choices = choices
        return forms

    def steps(self) -> list[dict]:
        """The timepoints as services.plan_create / plan_update take them (blank rows left
        out)."""
        steps = []
        for form in self.forms:
            data = form.cleaned_data
            if not data:
                continue  # an extra row left blank
            steps.append(
                {
                    "id": data.get("id"),
                    "due_on": data.get("due_on"),
                    "label": data.get("label", ""),
                    "call": data.get("call", False),
                    "script": data.get("script", ""),
                    "sms_template": data.get("sms_template"),
                    "remove": data.get("remove", False),
                }
            )
        return steps


StepFormSet = forms.formset_factory(
    StepForm, formset=BaseStepFormSet, extra=2, max_num=40, validate_max=True
)


class PlanCancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the cancellation"),
        max_length=200,
        error_messages={"required": _("Give the reason for the cancellation.")},
    )
