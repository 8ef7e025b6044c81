"""Forms of events (活动邀请): the event with its audience (messaging's campaign segment shape),
the reply, the door's phone search and the new person registered at the door. They check the
shape of what was sent; events.services enforces the rules (capacity, VIPs only, audience fixed
once invited)."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row
from django import forms
from django.utils.translation import gettext_lazy as _

from clientmgmt import consent
from clientmgmt.forms import ClientForm
from messaging.forms import CATEGORY_CHOICES
from zhongdu.forms import FormKeyField
from zhongdu.models import Channel, Department

from .models import Event, EventInvitation

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


class EventForm(forms.ModelForm):
    """The event and its audience. The audience fields read and write Event.segment in the shape
    messaging.selectors.campaign_segment takes (categories, channel, department,
    visited_within_days); "VIPs only" is the model's own field."""

    categories = forms.MultipleChoiceField(
        label=_("Archive categories"),
        choices=CATEGORY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Any of these; none means everyone."),
    )
    channel = forms.ModelChoiceField(
        label=_("Heard of us through"), queryset=Channel.objects.filter(active=True), required=False
    )
    department = forms.ModelChoiceField(
        label=_("Visited the department"),
        queryset=Department.objects.filter(active=True),
        required=False,
    )
    visited_within_days = forms.IntegerField(
        label=_("Visited in the last … days"), required=False, min_value=1, max_value=3650
    )
    key = FormKeyField()
    capacity = forms.IntegerField(
        label=_("Places"),
        min_value=1,
        max_value=100_000,
        help_text=_("Replies “coming” and people let in at the door stop here."),
    )
    AUDIENCE = ("categories", "channel", "department", "visited_within_days", "vip_only")

    class Meta:
        model = Event
        fields = [
            "title",
            "kind",
            "starts_at",
            "ends_at",
            "place",
            "capacity",
            "description",
            "vip_only",
        ]
        widgets = {
            "starts_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format=DATETIME_FORMATS[0]
            ),
            "ends_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format=DATETIME_FORMATS[0]
            ),
            "description": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "vip_only": _("Only VIP clients are invited and let in."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("starts_at", "ends_at"):
            self.fields[name].input_formats = DATETIME_FORMATS
        segment = self.instance.segment or {}
        if self.instance.pk:
            self.initial.update(
                {
                    "categories": segment.get("categories") or [],
                    "channel": segment.get("channel"),
                    "department": segment.get("department"),
                    "visited_within_days": segment.get("visited_within_days"),
                }
            )
            if self.instance.invitations_started_at:
                # Those invited stay invited: the audience is fixed once invitations went out.
                for name in self.AUDIENCE:
                    self.fields[name].disabled = True
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(
                Column("title", css_class="col-md-6"),
                Column("kind", css_class="col-md-3"),
                Column("capacity", css_class="col-md-3"),
            ),
            Row(
                Column("starts_at", css_class="col-md-3"),
                Column("ends_at", css_class="col-md-3"),
                Column("place", css_class="col-md-6"),
            ),
            "description",
            Fieldset(
                _("Who is invited"),
                Row(
                    Column("categories", css_class="col-md-3"),
                    Column("channel", css_class="col-md-3"),
                    Column("department", css_class="col-md-3"),
                    Column("visited_within_days", "vip_only", css_class="col-md-3"),
                ),
            ),
            "key",
        )

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The event must end after it starts."))
        return cleaned

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            **{name: data[name] for name in self.Meta.fields},
            "segment": {
                "categories": data.get("categories") or [],
                "channel": data["channel"].pk if data.get("channel") else None,
                "department": data["department"].pk if data.get("department") else None,
                "visited_within_days": data.get("visited_within_days"),
            },
        }

    def _post_clean(self):
        # The services write the event; ModelForm must not build one first.
        pass


class RsvpForm(forms.Form):
    answer = forms.ChoiceField(choices=EventInvitation.Rsvp.choices, required=False)


class DoorSearchForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile number (or its last 4 digits)"),
        max_length=30,
        widget=forms.TextInput(
            attrs={"inputmode": "tel", "autocomplete": "off", "autofocus": True}
        ),
    )


class DoorClientForm(ClientForm):
    """clientmgmt's client form (its duplicate checks included) for someone new at the door:
    the way they heard of the hospital is the event's channel, not a choice."""

    consent_channel = consent.Channel.EVENT_DOOR

    def __init__(self, *args, event, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["source_channel"]
        field.queryset = Channel.objects.filter(pk=event.channel_id)
        field.initial = event.channel_id
        field.disabled = True
