# Forms of Follow-up: they check the shape of input; the services (followup.services) enforce
# the rules. The return-visit call workbench (answers only for a reached client, who may take a
# call, a next call on a later day) and the care-plan pages (the calls and SMS of each
# timepoint, made once; no change to a plan that is not live).
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from complaints.models import Complaint
from messaging.models import Channel, SmsTemplate
from surveys.models import CALL_DIMENSIONS
from zhongdu.forms import DayField, FormKeyField, IdField

from . import selectors, services
from .models import CarePlan, FollowUpCall

Outcome = FollowUpCall.Outcome
_DATE_INVALID = _("Enter a date, for example 2026-03-01.")
_SCORE_ERROR = _("Scores are from 1 to 5.")
_RECOMMEND_ERROR = _("The recommend score is from 0 to 10.")


def _date_field(label, *, required):
    return DayField(
        label=label,
        required=required,
        widget=forms.DateInput({"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("Enter a date."), "invalid": _DATE_INVALID},
    )


class HandlerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class CallFilterForm(forms.Form):
    """The workbench's tab (mine, the shared pool, everyone's) and, for those who see everyone's
    queue, one handler's. Anything malformed falls back to the default tab. The page writes the
    handler select from the list it already has (rendering the field would query again)."""

    MINE, POOL, ALL = "mine", "pool", "all"

    view = forms.ChoiceField(
        choices=[(MINE, MINE), (POOL, POOL), (ALL, ALL)], required=False, widget=forms.HiddenInput
    )
    handler = HandlerChoiceField(queryset=services.call_handlers().none(), required=False)

    def __init__(self, *args, handlers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if handlers is not None:
            self.fields["handler"].queryset = handlers


class ScoreField(forms.TypedChoiceField):
    """A satisfaction score 1–5 as radio buttons, or "not asked"."""

    def __init__(self, label):
        super().__init__(
            label=label,
            choices=[("", "—"), *((n, str(n)) for n in range(1, 6))],
            coerce=int,
            empty_value=None,
            required=False,
            widget=forms.RadioSelect({"class": "form-check-input"}),
            error_messages={"invalid_choice": _SCORE_ERROR},
        )


class CallRecordForm(forms.Form):
    """What happened on one dial. The answers (scores, recommend, course, complaint, next call)
    are for a reached client; the page shows them only when "reached" is chosen, and the service
    refuses them otherwise."""

    outcome = forms.ChoiceField(
        label=_("What happened"),
        choices=Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose what happened on the call."),
            "invalid_choice": _("Choose what happened on the call."),
        },
    )
    recommend = forms.IntegerField(
        label=_("Would recommend us (0–10)"),
        required=False,
        min_value=0,
        max_value=10,
        widget=forms.NumberInput({"inputmode": "numeric"}),
        error_messages={
            "invalid": _RECOMMEND_ERROR,
            "min_value": _RECOMMEND_ERROR,
            "max_value": _RECOMMEND_ERROR,
        },
    )
    course = forms.ChoiceField(
        label=_("Treatment course"),
        choices=FollowUpCall.Course.choices,
        required=False,
        error_messages={"invalid_choice": _("Choose how the treatment course is going.")},
    )
    rehab_guidance = forms.BooleanField(label=_("Rehabilitation guidance given"), required=False)
    comment = forms.CharField(
        label=_("What the client said"),
        max_length=2000,
        required=False,
        widget=forms.Textarea({"rows": 2}),
    )
    next_call_on = _date_field(_("Next call on"), required=False)
    raise_complaint = forms.BooleanField(label=_("Raise a complaint"), required=False)
    complaint_category = forms.ChoiceField(
        label=_("Complaint category"),
        choices=Complaint.Category.choices,
        initial=Complaint.Category.OTHER,
        error_messages={"invalid_choice": _("Choose the category of the complaint.")},
    )
    complaint_severity = forms.ChoiceField(
        label=_("Severity"),
        choices=Complaint.Severity.choices,
        initial=Complaint.Severity.NORMAL,
        error_messages={"invalid_choice": _("Choose the severity of the complaint.")},
    )
    notes = forms.CharField(
        label=_("Notes for colleagues"),
        max_length=500,
        required=False,
        widget=forms.Textarea({"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for dimension in CALL_DIMENSIONS:
            self.fields[f"score_{dimension}"] = ScoreField(dimension.label)
        # Not required: an unticked "raise a complaint" needs neither.
        for name in ("complaint_category", "complaint_severity"):
            self.fields[name].required = False
        self.fields["course"].widget.attrs["class"] = "form-select"

    @property
    def score_fields(self):
        return [self[f"score_{dimension}"] for dimension in CALL_DIMENSIONS]

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "outcome": data["outcome"],
            "scores": {str(d): data.get(f"score_{d}") for d in CALL_DIMENSIONS},
            "recommend": data["recommend"],
            "comment": data["comment"],
            "course": data["course"],
            "rehab_guidance": data["rehab_guidance"],
            "notes": data["notes"],
            "next_call_on": data["next_call_on"],
            "raise_complaint": data["raise_complaint"],
            "complaint_category": data["complaint_category"] or Complaint.Category.OTHER,
            "complaint_severity": data["complaint_severity"] or Complaint.Severity.NORMAL,
        }


class CallNewForm(forms.Form):
    """A call made by hand from the client page."""

    title = forms.CharField(
        label=_("Subject"),
        max_length=120,
        error_messages={"required": _("Say what the call is about.")},
    )
    due_on = _date_field(_("Call on"), required=True)
    script = forms.CharField(
        label=_("Script and notes for the caller"),
        required=False,
        max_length=2000,
        widget=forms.Textarea({"rows": 4}),
    )
    assigned_to = HandlerChoiceField(
        label=_("Assigned to"), queryset=services.call_handlers().none(), required=False
    )
    key = FormKeyField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned_to"].queryset = services.call_handlers().order_by("username")
        self.fields["assigned_to"].empty_label = _("Whoever has the fewest calls")
        self.fields["assigned_to"].error_messages["invalid_choice"] = _(
            "Calls go to client managers."
        )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the page's own <form> carries the token
        self.helper.layout = Layout(
            "title",
            Row(Column("due_on"), Column("assigned_to")),
            "script",
            "key",
        )

    def clean_due_on(self):
        due_on = self.cleaned_data["due_on"]
        if due_on < timezone.localdate():
            raise forms.ValidationError(_("A new call cannot be due in the past."))
        return due_on

    def create_kwargs(self) -> dict:
        """call_create's arguments: the form's one-time key is the call's origin, so a double
        click on "plan the call" plans one call."""
        data = dict(self.cleaned_data)
        key = data.pop("key")
        if key:
            data["source"] = f"form:{key}"
        return data


class ReassignForm(forms.Form):
    """`to`: a client manager's id, or empty for the shared pool."""

    to = HandlerChoiceField(
        queryset=services.call_handlers().none(),
        required=False,
        error_messages={"invalid_choice": _("Calls go to client managers.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = services.call_handlers()


class CallBulkForm(forms.Form):
    """A maintenance call to each client ticked in the archives (clientmgmt's archive list posts
    here): one date and subject for all."""

    due_on = _date_field(_("Call on"), required=True)
    title = forms.CharField(label=_("Subject"), max_length=120, required=False)

    def clean_due_on(self):
        due_on = self.cleaned_data["due_on"]
        if due_on < timezone.localdate():
            raise forms.ValidationError(_("A new call cannot be due in the past."))
        return due_on


# --- Care plans -----------------------------------------------------------------------

CARE_TEXTS = ("diagnosis", "treatment_plan", "diet", "rehab", "lifestyle")
HEALTH_TEXTS = ("exercise", "mental_health", "prevention", "sub_health", "insurance")


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
    """The advice written on the plan; a health-management plan adds exercise, mental health,
    prevention, sub-health care and health insurance (with diet: the outline's six headings)."""

    diagnosis = forms.CharField(label=_("Diagnosis summary"), required=False, max_length=4000)
    treatment_plan = forms.CharField(label=_("Treatment plan"), required=False, max_length=4000)
    diet = forms.CharField(label=_("Diet"), required=False, max_length=4000)
    rehab = forms.CharField(label=_("Rehabilitation"), required=False, max_length=4000)
    lifestyle = forms.CharField(label=_("Lifestyle"), required=False, max_length=4000)
    exercise = forms.CharField(label=_("Exercise"), required=False, max_length=4000)
    mental_health = forms.CharField(label=_("Mental health"), required=False, max_length=4000)
    prevention = forms.CharField(label=_("Prevention"), required=False, max_length=4000)
    sub_health = forms.CharField(label=_("Sub-health care"), required=False, max_length=4000)
    insurance = forms.CharField(label=_("Health insurance"), required=False, max_length=4000)

    def __init__(self, *args, kind=CarePlan.Kind.CARE, **kwargs):
        super().__init__(*args, **kwargs)
        if kind != CarePlan.Kind.HEALTH:
            for name in HEALTH_TEXTS:
                del self.fields[name]
        for field in self.fields.values():
            field.widget = forms.Textarea({"rows": 2, "class": "form-control"})


class SmsTemplateChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.choice_label


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
        self.fields["sms_template"].queryset = SmsTemplate.objects.filter(
            active=True, channel=Channel.SMS
        )
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
