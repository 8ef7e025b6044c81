from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhongdu.forms import DayField, FormKeyField, IdField
from zhongdu.models import Channel, Department

from .models import Campaign, OutboxMessage, Purpose, SmsTemplate
from .models import Channel as MessageChannel


class OutboxFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *OutboxMessage.Status.choices]
    )
    purpose = forms.ChoiceField(
        label=_("Purpose"), required=False, choices=[("", _("All")), *Purpose.choices]
    )
    date = DayField(label=_("Day"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    client = IdField(label=_("Client number"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.layout = Layout(
            Row(
                Column("status", css_class="col-md-3"),
                Column("purpose", css_class="col-md-3"),
                Column("date", css_class="col-md-3"),
                Column("client", css_class="col-md-3"),
            ),
            Submit("filter", _("Filter"), css_class="btn-primary"),
        )


CATEGORY_CHOICES = [
    ("is_patient", _("Patient")),
    ("is_member", _("Member")),
    ("is_exam_client", _("Exam client")),
]


class SegmentFields(forms.Form):
    """The fields that describe a segment of clients, in the shape
    messaging.selectors.campaign_segment reads: campaigns and market survey rounds use them."""

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
    vip_only = forms.BooleanField(label=_("VIP clients only"), required=False)

    def segment_row(self) -> Row:
        return Row(
            Column("categories", css_class="col-md-3"),
            Column("channel", css_class="col-md-3"),
            Column("department", css_class="col-md-3"),
            Column("visited_within_days", "vip_only", css_class="col-md-3"),
        )

    def segment(self) -> dict:
        data = self.cleaned_data
        return {
            "categories": data.get("categories") or [],
            "channel": data["channel"].pk if data.get("channel") else None,
            "department": data["department"].pk if data.get("department") else None,
            "visited_within_days": data.get("visited_within_days"),
            "vip_only": bool(data.get("vip_only")),
        }


class CampaignForm(SegmentFields, forms.ModelForm):
    key = FormKeyField()

    class Meta:
        model = Campaign
        fields = ["name", "template", "send_at"]
        widgets = {"send_at": forms.DateTimeInput(attrs={"type": "datetime-local"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Campaigns are SMS: voice is for one person's service notices, never a campaign.
        self.fields["template"].queryset = SmsTemplate.objects.filter(
            active=True, channel=MessageChannel.SMS
        )
        self.fields["template"].label_from_instance = lambda template: template.choice_label
        self.fields["send_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(Column("name", css_class="col-md-6"), Column("template", css_class="col-md-6")),
            self.segment_row(),
            "send_at",
            "key",
        )

    def clean_send_at(self):
        value = self.cleaned_data["send_at"]
        if value < timezone.now() - timezone.timedelta(minutes=5):
            raise forms.ValidationError(_("Choose a time that has not passed."))
        return value
