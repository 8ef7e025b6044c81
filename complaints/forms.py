# Forms of the complaint pages: they check the shape of input; complaints.services enforces the
# rules (legal moves, the result and the call-back required to close, who may be a handler).
import re

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhongdu.forms import FormKeyField, MomentField
from zhongdu.models import Department

from .models import Complaint
from .services import complaint_handlers

Status = Complaint.Status

# "<app label>.<model>:<id>[:<more>]", as follow-up writes it (followup.call:12).
SOURCE = re.compile(r"^[a-z_]+\.[a-z_]+:\d+(:[a-z0-9_]+)?$")
# The channel a complaint raised from an origin came by, by the origin's model.
SOURCE_CHANNELS = {
    "followup.followupcall": Complaint.Channel.RETURN_CALL,
    "followup.call": Complaint.Channel.RETURN_CALL,
    "surveys.surveyresponse": Complaint.Channel.SURVEY,
}


def channel_for_source(source: str) -> str:
    return SOURCE_CHANNELS.get(source.partition(":")[0], Complaint.Channel.PHONE)


class HandlerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user.get_full_name() or user.get_username()


def _handler_field(*, required: bool, empty_label):
    return HandlerChoiceField(
        label=_("Handler"),
        queryset=complaint_handlers(),
        required=required,
        empty_label=empty_label,
        error_messages={
            "required": _("Choose who handles the complaint."),
            "invalid_choice": _("Choose a handler from the list."),
        },
    )


def _inline_helper():
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True  # the page's own <form> carries the token
    return helper


class ComplaintForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Received by"),
        choices=Complaint.Channel.choices,
        error_messages={"invalid_choice": _("Choose how the complaint was received.")},
    )
    category = forms.ChoiceField(
        label=_("Category"),
        choices=Complaint.Category.choices,
        error_messages={"invalid_choice": _("Choose the category of the complaint.")},
    )
    severity = forms.ChoiceField(
        label=_("Severity"),
        choices=Complaint.Severity.choices,
        initial=Complaint.Severity.NORMAL,
        help_text=_("Sets the deadlines to acknowledge and to resolve it."),
        error_messages={"invalid_choice": _("Choose the severity of the complaint.")},
    )
    department = forms.ModelChoiceField(
        label=_("Department concerned"),
        queryset=Department.objects.filter(active=True),
        required=False,
        error_messages={"invalid_choice": _("Choose a department from the list.")},
    )
    person_concerned = forms.CharField(label=_("Person concerned"), max_length=50, required=False)
    words = forms.CharField(
        label=_("The client's words"),
        max_length=4000,
        widget=forms.Textarea({"rows": 5}),
        error_messages={"required": _("Write down what the client said.")},
    )
    source = forms.CharField(max_length=60, required=False, widget=forms.HiddenInput)
    key = FormKeyField()

    def __init__(self, *args, may_assign=False, **kwargs):
        super().__init__(*args, **kwargs)
        if may_assign:
            self.fields["handler"] = _handler_field(
                required=False, empty_label=_("In turn (the client manager with the fewest)")
            )
        self.helper = _inline_helper()
        self.helper.layout = Layout(
            Row(Column("channel"), Column("category"), Column("severity")),
            Row(Column("department"), Column("person_concerned")),
            "words",
            *(["handler"] if may_assign else []),
            "source",
            "key",
        )

    def clean_source(self):
        source = self.cleaned_data["source"].strip()
        if source and not SOURCE.match(source):
            return ""  # a mangled link records the complaint without its origin
        return source

    def create_kwargs(self) -> dict:
        """complaint_create's arguments: a complaint recorded by hand has the form's one-time
        key for its origin, so a double click on "record" records it once."""
        data = dict(self.cleaned_data)
        key = data.pop("key")
        if key and not data["source"]:
            data["source"] = f"form:{key}"
        return data


class ComplaintFilterForm(forms.Form):
    """The list's filters; anything malformed falls back to no filter."""

    scope = forms.ChoiceField(
        label=_("Complaints"),
        choices=[("mine", _("Mine")), ("all", _("Everyone's"))],
        required=False,
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            ("", pgettext_lazy("complaints", "Open")),
            *Status.choices,
            ("all", pgettext_lazy("complaints", "All")),
        ],
        required=False,
    )
    severity = forms.ChoiceField(
        label=_("Severity"), choices=[("", "—"), *Complaint.Severity.choices], required=False
    )
    category = forms.ChoiceField(
        label=_("Category"), choices=[("", "—"), *Complaint.Category.choices], required=False
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args, handler=True, **kwargs):
        super().__init__(*args, **kwargs)
        if handler:
            self.fields["handler"] = _handler_field(required=False, empty_label="—")
        else:
            del self.fields[
                "scope"
            ]  # those who do not handle complaints see the ones they recorded
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_class = "d-print-none mb-3"
        self.helper.disable_csrf = True
        fields = ("scope", "status", "severity", "category", "handler")
        self.helper.layout = Row(
            *(Column(name, css_class="col-sm-6 col-lg") for name in fields if name in self.fields),
            Column("overdue", css_class="col-sm-6 col-lg-auto align-self-end"),
            Column(Submit("show", _("Show")), css_class="col-auto align-self-end mb-3"),
        )


class ComplaintStepForm(forms.Form):
    """Acknowledge, start the investigation, resolve: the status is the button pressed."""

    status = forms.ChoiceField(
        choices=[
            (s, Status(s).label)
            for s in (Status.ACKNOWLEDGED, Status.INVESTIGATING, Status.RESOLVED)
        ],
        error_messages={
            "required": _("Choose what to do with the complaint."),
            "invalid_choice": _("Choose what to do with the complaint."),
        },
    )
    detail = forms.CharField(label=_("Note"), max_length=1000, required=False)
    findings = forms.CharField(
        label=_("Findings"), max_length=4000, required=False, widget=forms.Textarea({"rows": 3})
    )
    action_taken = forms.CharField(
        label=_("Action taken"),
        max_length=4000,
        required=False,
        widget=forms.Textarea({"rows": 3}),
    )


class ComplaintCloseForm(forms.Form):
    """The recorded result, and the call to the client about it."""

    status = forms.CharField(widget=forms.HiddenInput, initial=Status.CLOSED)
    findings = forms.CharField(
        label=_("Findings"),
        max_length=4000,
        widget=forms.Textarea({"rows": 3}),
        error_messages={"required": _("Write down the findings before closing the complaint.")},
    )
    action_taken = forms.CharField(
        label=_("Action taken"),
        max_length=4000,
        widget=forms.Textarea({"rows": 3}),
        error_messages={"required": _("Write down the action taken before closing the complaint.")},
    )
    compensation = forms.CharField(label=_("Compensation (if any)"), max_length=200, required=False)
    client_accepted = forms.TypedChoiceField(
        label=_("Did the client accept the result?"),
        choices=[("yes", _("Yes, accepted")), ("no", _("No, not accepted"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Record whether the client accepted the result."),
            "invalid_choice": _("Record whether the client accepted the result."),
        },
    )
    client_called_at = MomentField(
        label=_("I called the client back about the result on"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput({"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={
            "required": _(
                "Call the client back about the result, and record when, before closing."
            ),
            "invalid": _("Enter the date and time of the call, e.g. 2026-03-01 14:30."),
        },
    )
    detail = forms.CharField(label=_("Note"), max_length=1000, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _inline_helper()
        self.helper.layout = Layout(
            "status",
            "findings",
            "action_taken",
            Row(Column("compensation"), Column("client_accepted")),
            Row(Column("client_called_at"), Column("detail")),
        )


class ComplaintReopenForm(forms.Form):
    status = forms.CharField(widget=forms.HiddenInput, initial=Status.INVESTIGATING)
    detail = forms.CharField(
        label=_("Reason for reopening"),
        max_length=1000,
        error_messages={"required": _("Give the reason for reopening the complaint.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _inline_helper()


class ComplaintAssignForm(forms.Form):
    handler = _handler_field(required=True, empty_label="—")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _inline_helper()


class ComplaintFiguresForm(forms.Form):
    month = forms.RegexField(
        label=pgettext_lazy("figures", "Month"),
        regex=r"^\d{4}-(0[1-9]|1[0-2])$",
        required=False,
        widget=forms.DateInput({"type": "month"}),
        error_messages={"invalid": _("Enter a month as YYYY-MM, e.g. 2026-03.")},
    )

    def clean_month(self):
        month = self.cleaned_data["month"]
        if month and not 2000 <= int(month[:4]) <= 2100:
            raise forms.ValidationError(_("Enter a month as YYYY-MM, e.g. 2026-03."))
        return month

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_class = "d-print-none mb-3"
        self.helper.disable_csrf = True
        self.helper.layout = Row(
            Column("month", css_class="col-sm-6 col-lg-3"),
            Column(Submit("show", _("Show")), css_class="col-auto align-self-end mb-3"),
        )


def status_form_for(complaint, data):
    """The form that checks a move of `complaint` posted as `data`: closing asks for the result
    and the call-back, reopening for a reason, the other steps for a note."""
    wanted = data.get("status")
    if wanted == Status.CLOSED:
        return ComplaintCloseForm(data)
    if wanted == Status.INVESTIGATING and complaint.status == Status.CLOSED:
        return ComplaintReopenForm(data)
    return ComplaintStepForm(data)
