# Forms of Consultation desk: they check the shape of input; services enforce business rules.
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Field, Fieldset, Layout, Row, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from clientmgmt import consent
from zhongdu import phones
from zhongdu.forms import DayField, FormKeyField, IdField
from zhongdu.models import Channel, ClinicSession, Department, Expert

from .models import Booking, Enquiry, Recall


def _inline_helper(submit_label):
    helper = FormHelper()
    helper.form_method = "get"
    helper.form_class = "d-print-none mb-3"
    helper.disable_csrf = True
    return helper, Submit("show", submit_label)  # crispy styles it btn btn-primary


class BookingFilterForm(forms.Form):
    """The day list's filters; anything malformed falls back to today / no filter."""

    date = DayField(
        label=_("Day"),
        required=False,
        widget=forms.DateInput({"type": "date"}, format="%Y-%m-%d"),
    )
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.filter(active=True), required=False
    )
    expert = forms.ModelChoiceField(
        label=_("Expert"), queryset=Expert.objects.filter(active=True), required=False
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("All")), *Booking.Status.choices],
        required=False,
    )
    view = forms.ChoiceField(  # day or week: kept when the filters change
        choices=[("", "day"), ("week", "week")], required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper, submit = _inline_helper(_("Show"))
        visible = [name for name in self.fields if name != "view"]
        self.helper.layout = Row(
            *(Column(name, css_class="col-sm-6 col-lg") for name in visible),
            "view",
            Column(submit, css_class="col-auto align-self-end mb-3"),
        )


class SessionFilterForm(forms.Form):
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.filter(active=True), required=False
    )
    expert = forms.ModelChoiceField(
        label=_("Expert"), queryset=Expert.objects.filter(active=True), required=False
    )
    client = IdField(widget=forms.HiddenInput)
    # Kept when the filters change, so the booking stays linked to its enquiry.
    enquiry = IdField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper, submit = _inline_helper(_("Show sessions"))
        self.helper.layout = Row(
            Column("department", css_class="col-sm"),
            Column("expert", css_class="col-sm"),
            "client",
            "enquiry",
            Column(submit, css_class="col-auto align-self-end mb-3"),
        )


class BookingForm(forms.Form):
    """The session is chosen in the table of free sessions (radio buttons named `session`)."""

    session = forms.ModelChoiceField(
        queryset=ClinicSession.objects.all(),
        error_messages={
            "required": _("Choose a session."),
            "invalid_choice": _("Choose a session."),
        },
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Booking.Kind.choices)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
    key = FormKeyField()


class RescheduleForm(forms.Form):
    session = forms.ModelChoiceField(
        label=_("New session"),
        queryset=ClinicSession.objects.all(),
        error_messages={
            "required": _("Choose a session."),
            "invalid_choice": _("Choose a session."),
        },
    )
    reason = forms.CharField(
        label=_("Reason for moving the booking"),
        max_length=300,
        error_messages={"required": _("Give the reason for moving the booking.")},
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the cancellation"),
        max_length=200,
        error_messages={"required": _("Give the reason for the cancellation.")},
    )


class EnquiryForm(forms.ModelForm):
    """The call screen's record of an enquiry. The prospect's name and phone are shown only
    when the caller is not a known client (the view drops them otherwise)."""

    class Meta:
        model = Enquiry
        fields = [
            "prospect_name",
            "prospect_phone",
            "contact_channel",
            "direction",
            "marketing_channel",
            "department",
            "topic",
            "question",
            "answer",
            "referred_expert",
            "outcome",
            "call_back_date",
            "duration_seconds",
        ]
        widgets = {
            "question": forms.Textarea({"rows": 2}),
            "answer": forms.Textarea({"rows": 2}),
            "call_back_date": forms.DateInput({"type": "date"}),
        }

    key = FormKeyField()

    def __init__(self, *args, known_client=False, on_call=False, **kwargs):
        super().__init__(*args, **kwargs)
        if known_client:
            del self.fields["prospect_name"]
            del self.fields["prospect_phone"]
        if on_call:
            # Recorded on a hotline call: its duration comes from the call (zhongdu.origins).
            del self.fields["duration_seconds"]
        self.fields["outcome"].required = True
        self.fields["outcome"].choices = Enquiry.Outcome.choices
        self.fields["outcome"].error_messages["required"] = _("Choose the outcome of the enquiry.")
        self.fields["contact_channel"].choices = [
            choice
            for choice in Enquiry.ContactChannel.choices
            if choice[0] != Enquiry.ContactChannel.ONLINE_FORM
        ]
        self.fields["marketing_channel"].queryset = Channel.objects.filter(active=True)
        self.fields["department"].queryset = Department.objects.filter(active=True)
        self.fields["referred_expert"].queryset = Expert.objects.filter(active=True)
        self.helper = FormHelper()
        self.helper.form_tag = False
        caller = (
            [Row(Column("prospect_name"), Column("prospect_phone"))] if not known_client else []
        )
        self.helper.layout = Layout(
            *caller,
            Row(Column("contact_channel"), Column("direction"), Column("marketing_channel")),
            Row(Column("department"), Column("topic")),
            Field("question"),
            Field("answer"),
            Row(Column("outcome"), Column("referred_expert"), Column("call_back_date")),
            *([] if on_call else [Field("duration_seconds", css_class="w-auto")]),
            "key",
        )

    def clean_prospect_phone(self):
        return phones.normalise(self.cleaned_data.get("prospect_phone", ""))

    def clean(self):
        data = super().clean()
        outcome = data.get("outcome")
        if outcome == Enquiry.Outcome.CALL_BACK and not data.get("call_back_date"):
            self.add_error("call_back_date", _("Give the date to call back."))
        if outcome == Enquiry.Outcome.REFERRED and not data.get("referred_expert"):
            self.add_error("referred_expert", _("Choose the expert the caller was referred to."))
        if "prospect_name" in self.fields and not (
            data.get("prospect_name") or data.get("prospect_phone")
        ):
            raise forms.ValidationError(_("Enter the caller's name or phone number."))
        return data

    def create_kwargs(self) -> dict:
        """enquiry_create's arguments: the form's one-time key records the enquiry once."""
        data = dict(self.cleaned_data)
        data["request_key"] = data.pop("key")
        return data


class PublicBookingRequestForm(forms.Form):
    """The public booking-request page. `website` is a honeypot: hidden from people (its wrapper
    is display:none), filled in by bots."""

    name = forms.CharField(
        label=_("Your name"),
        max_length=50,
        error_messages={"required": _("Please tell us your name.")},
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=30,
        help_text=_("We will call you on this number."),
        error_messages={"required": _("Please give a phone number we can call.")},
    )
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.filter(active=True),
        required=False,
        empty_label=_("I don't know"),
        error_messages={"invalid_choice": _("Please choose a department from the list.")},
    )
    preferred_date = DayField(
        label=_("Preferred date"),
        required=False,
        widget=forms.DateInput({"type": "date"}),
        error_messages={"invalid": _("Please enter a date, for example 2026-03-01.")},
    )
    message = forms.CharField(
        label=_("Message"),
        max_length=1000,
        required=False,
        widget=forms.Textarea({"rows": 4}),
        help_text=_("What would you like to ask or book? (optional)"),
    )
    # The consents, one tick each (clientmgmt.consent): health information is needed for a
    # request that says what the person's concern is; marketing is theirs to choose.
    health_data = forms.BooleanField(
        label=consent.PURPOSES[consent.HEALTH_DATA].agreement, required=False
    )
    marketing_sms = forms.BooleanField(
        label=consent.PURPOSES[consent.MARKETING_SMS].agreement, required=False
    )
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput({"autocomplete": "off", "tabindex": "-1"}),
    )
    key = FormKeyField()

    def __init__(self, *args, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.helper = FormHelper()
        self.helper.form_method = "post"
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            Fieldset(
                "",
                "name",
                Field("phone", type="tel", autocomplete="tel"),
                "department",
                "preferred_date",
                "message",
                HTML('{% include "zhongdu/_privacy_notice.html" %}'),
                Div("health_data", "marketing_sms", css_class="consents"),
                Field("website", wrapper_class="d-none", aria_hidden="true"),
                "key",
            ),
            Submit("send", _("Send my request"), css_class="btn-lg w-100"),
        )

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("Please tell us your name."))
        return name

    def clean_phone(self):
        return phones.normalise(self.cleaned_data["phone"])

    def clean_preferred_date(self):
        day = self.cleaned_data.get("preferred_date")
        if day and self.today and day < self.today:
            raise forms.ValidationError(_("Please choose today or a later date."))
        return day

    def clean(self):
        cleaned = super().clean()
        concern = cleaned.get("message") or cleaned.get("department")
        if concern and not cleaned.get("health_data"):
            self.add_error(
                "health_data",
                _(
                    "Please agree to the processing of your health information, or leave out "
                    "your concern and the department: without your consent we may not record them."
                ),
            )
        return cleaned

    @property
    def consents(self) -> dict[str, bool]:
        """The purposes the person agreed to ({purpose: True})."""
        return {
            code: True
            for code in (consent.HEALTH_DATA, consent.MARKETING_SMS)
            if self.cleaned_data.get(code)
        }

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))


class RecallAttemptForm(forms.Form):
    """One call to a no-show (reached, with the reason, then rebook or close; or unreachable) or
    to a caller of the hotline (`callback`: reached or unreachable)."""

    REACHED = "reached"
    UNREACHABLE = "unreachable"

    outcome = forms.ChoiceField(
        label=_("Result of the call"),
        choices=[(REACHED, _("Reached the client")), (UNREACHABLE, _("Could not reach"))],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Say whether you reached the client."),
            "invalid_choice": _("Say whether you reached the client."),
        },
    )
    reason = forms.ChoiceField(
        label=_("Reason for the no-show"),
        choices=[("", "---------"), *Recall.Reason.choices],
        required=False,
        error_messages={"invalid_choice": _("Choose the reason the client gave.")},
    )
    action = forms.ChoiceField(
        label=_("Next step"),
        choices=[("rebook", _("Rebook the client")), ("close", _("Close the recall"))],
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose whether to rebook or close.")},
    )
    note = forms.CharField(
        label=_("Note"), max_length=500, required=False, widget=forms.Textarea({"rows": 2})
    )
    # The attempts the page showed: the same form sent twice records one call.
    seen = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, callback=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.callback = callback
        if callback:
            # A caller called back: what they wanted is recorded on the call screen next.
            del self.fields["reason"]
            del self.fields["action"]
            self.fields["outcome"].choices = [
                (self.REACHED, _("Reached the caller")),
                (self.UNREACHABLE, _("Could not reach")),
            ]
            said = _("Say whether you reached the caller.")
            self.fields["outcome"].error_messages |= {"required": said, "invalid_choice": said}

    def clean(self):
        data = super().clean()
        if data.get("outcome") == self.REACHED and not self.callback:
            if not data.get("reason"):
                self.add_error("reason", _("Choose the reason the client gave."))
            if not data.get("action"):
                self.add_error("action", _("Choose whether to rebook or close."))
        return data


class RecallCloseForm(forms.Form):
    note = forms.CharField(
        label=_("Why close it"),
        max_length=500,
        error_messages={"required": _("Say why the recall is closed.")},
    )
