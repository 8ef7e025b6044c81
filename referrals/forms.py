"""Forms of referrals (转诊): recording one from the client page, the list's filters, and the
status buttons. They check the shape of what was sent; referrals.services enforces the rules."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from zhongdu.forms import FormKeyField

from .models import Referral


class ReferralForm(forms.ModelForm):
    key = FormKeyField()

    class Meta:
        model = Referral
        fields = ["source", "referrer", "note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"note": _("What the referrer said: the complaint, the wish, when to call.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(Column("source", css_class="col-md-4"), Column("referrer", css_class="col-md-8")),
            "note",
            "key",
        )

    def create_kwargs(self) -> dict:
        """referral_create's arguments: the form's one-time key records the referral once."""
        data = dict(self.cleaned_data)
        data["request_key"] = data.pop("key")
        return data

    def _post_clean(self):
        # The service builds the referral; ModelForm must not build one first.
        pass


class ReferralFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", _("Open first, then the rest")),
            ("open", _("Open only")),
            *Referral.Status.choices,
        ],
    )
    source = forms.ChoiceField(
        label=_("Referred by"),
        required=False,
        choices=[("", _("Anyone")), *Referral.Source.choices],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Row(
                Column("status", css_class="col-md-4"),
                Column("source", css_class="col-md-4"),
                Column(Submit("filter", _("Show"), css_class="btn-primary mt-md-4")),
            )
        )


class ReferralStatusForm(forms.Form):
    status = forms.ChoiceField(choices=Referral.Status.choices)
    note = forms.CharField(max_length=300, required=False)
