# Forms of VIP: they check the shape of input; services enforce business rules (the two-person
# rule, who may be an escort, an enterprise's unique name...). Every message is one a person can
# act on: nothing typed here ends in a 500.
import datetime
from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Layout, Row, Submit
from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guide.selectors import escorts, user_label
from zhongdu import phones
from zhongdu.forms import DayField, FormKeyField, IdField
from zhongdu.private_query import post_search

from . import services
from .models import Enterprise, Tier, VipStanding

ALL = "all"
# The roster highlights standings that end within this many days.
EXPIRING_SOON_DAYS = 30
MAX_DAYS = 3660
MAX_MONEY = Decimal("9999999999.99")


def _date_field(label, **kwargs):
    return DayField(
        label=label,
        required=False,
        widget=forms.DateInput({"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a date, for example 2026-03-01.")},
        **kwargs,
    )


def _money_field(label, *, required=False, max_digits=12, **kwargs):
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=0,
        max_digits=max_digits,
        decimal_places=2,
        error_messages={
            "invalid": _("Enter an amount in yuan, e.g. 50000 or 50000.50."),
            "min_value": _("The amount cannot be negative."),
            "max_digits": _("This amount is too large."),
            "max_whole_digits": _("This amount is too large."),
            "max_decimal_places": _("At most two decimal places (fen)."),
        },
        **kwargs,
    )


def _filter_helper(form, *columns, submit=None):
    """The filter bar of a list page: a GET form laid out in one row."""
    helper = FormHelper()
    helper.form_method = "get"
    helper.form_class = "d-print-none mb-3"
    helper.disable_csrf = True
    helper.layout = Row(
        *columns,
        Column(Submit("show", submit or _("Show")), css_class="col-auto align-self-end mb-3"),
    )
    form.helper = helper


def _embedded_helper(*fields):
    """Fields inside a page's own <form> (which carries the token and the buttons)."""
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    if fields:
        helper.layout = Layout(*fields)
    return helper


# --- The roster -----------------------------------------------------------------------


class RosterFilterForm(forms.Form):
    """The roster's filters; anything malformed falls back to no filter (with its message)."""

    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", _("All")), *VipStanding.Kind.choices], required=False
    )
    tier = forms.ChoiceField(
        label=_("Tier"), choices=[("", _("All")), *Tier.choices], required=False
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[*VipStanding.Status.choices, (ALL, pgettext_lazy("VIP status", "All"))],
        required=False,
    )
    since = _date_field(_("VIP since (from)"))
    expiring = forms.IntegerField(
        label=_("Ending within (days)"),
        required=False,
        min_value=0,
        max_value=MAX_DAYS,
        error_messages={
            "invalid": _("Enter a number of days."),
            "min_value": _("Enter a number of days."),
            "max_value": _("At most %(limit_value)s days."),
        },
    )
    min_spend = _money_field(_("Spend from (yuan)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _filter_helper(
            self,
            Column("kind", css_class="col-sm-6 col-lg-2"),
            Column("tier", css_class="col-sm-6 col-lg-2"),
            Column("status", css_class="col-sm-6 col-lg-2"),
            Column("since", css_class="col-sm-6 col-lg-2"),
            Column("expiring", css_class="col-sm-6 col-lg-1"),
            Column("min_spend", css_class="col-sm-6 col-lg-2"),
        )

    def filters(self) -> dict:
        """The roster selector's arguments: active VIPs unless another status is asked for."""
        data = self.cleaned_data if self.is_valid() else {}
        status = data.get("status") or VipStanding.Status.ACTIVE
        return {
            "kind": data.get("kind", ""),
            "tier": data.get("tier", ""),
            "status": "" if status == ALL else status,
            "since": data.get("since"),
            "expiring_days": data.get("expiring"),
            "min_spend": data.get("min_spend"),
        }


# --- A VIP's page ---------------------------------------------------------------------


class EscortChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user_label(user)


class EscortForm(forms.Form):
    escort = EscortChoiceField(
        label=_("Named escort"),
        queryset=escorts().none(),
        required=False,
        empty_label=_("No named escort"),
        error_messages={"invalid_choice": _("Choose someone of the front desk or a VIP manager.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Active users of the front desk and the VIP managers (the service checks again).
        self.fields["escort"].queryset = escorts()
        self.helper = _embedded_helper("escort")


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for revoking"),
        max_length=200,
        error_messages={
            "required": _("Give the reason."),
            "max_length": _("At most %(limit_value)d characters."),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _embedded_helper("reason")

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Give the reason."))
        return reason


# --- Costs ----------------------------------------------------------------------------


class PeriodForm(forms.Form):
    """From and to (both days included); the policy's window when left empty."""

    date_from = _date_field(_("From"))
    date_to = _date_field(_("To"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _filter_helper(
            self,
            Column("date_from", css_class="col-sm-6 col-lg-3"),
            Column("date_to", css_class="col-sm-6 col-lg-3"),
        )

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The start date must not be after the end date."))
        return data

    def period(self, default_start: datetime.date, today: datetime.date):
        """(first day, last day) asked for; the default where a date is missing or wrong."""
        data = self.cleaned_data if self.is_valid() else {}
        return data.get("date_from") or default_start, data.get("date_to") or today


class CostExportForm(PeriodForm):
    reason = forms.CharField(
        label=_("Reason for the export"),
        min_length=4,
        max_length=200,
        help_text=_("Exports of a VIP's costs are recorded with their reason."),
        error_messages={
            "required": _("Say why you export these costs."),
            "min_length": _("Say why you export these costs."),
            "max_length": _("At most %(limit_value)d characters."),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date_from"].widget = forms.HiddenInput()
        self.fields["date_to"].widget = forms.HiddenInput()
        self.helper = _embedded_helper("reason", "date_from", "date_to")

    def clean_reason(self):
        reason = " ".join(self.cleaned_data["reason"].split())
        if len(reason) < 4:
            raise forms.ValidationError(_("Say why you export these costs."))
        return reason


# --- Candidates and nominations ---------------------------------------------------------


class DecisionForm(forms.Form):
    APPROVE, REJECT = "approve", "reject"

    decision = forms.ChoiceField(
        choices=[(APPROVE, _("Approve")), (REJECT, _("Reject"))],
        error_messages={
            "required": _("Approve or reject."),
            "invalid_choice": _("Approve or reject."),
        },
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        required=False,
        error_messages={"max_length": _("At most %(limit_value)d characters.")},
    )


class NominateForm(forms.Form):
    reason = forms.CharField(
        label=_("Why this client should be a VIP"),
        max_length=1000,
        widget=forms.Textarea({"rows": 3}),
        help_text=_(
            "Social standing or long loyalty (the policy's other criteria). A second person"
            " approves the nomination."
        ),
        error_messages={
            "required": _("Say why this client should be a VIP."),
            "max_length": _("At most %(limit_value)d characters."),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _embedded_helper("reason")


# --- Enterprises ----------------------------------------------------------------------


class EnterpriseForm(forms.ModelForm):
    """The account's basics. Uniqueness of the name and the order of the agreement's dates are
    checked by the service (enterprise_create / enterprise_update), whose messages land on the
    fields."""

    class Meta:
        model = Enterprise
        fields = [
            "name",
            "agreement_number",
            "agreement_start",
            "agreement_end",
            "terms",
            "employee_count",
            "annual_revenue",
            "contact_name",
            "contact_phone",
            "active",
        ]
        widgets = {
            "agreement_start": forms.DateInput({"type": "date"}, format="%Y-%m-%d"),
            "agreement_end": forms.DateInput({"type": "date"}, format="%Y-%m-%d"),
            "terms": forms.Textarea({"rows": 3}),
        }
        error_messages = {
            "name": {"required": _("Enter the enterprise's name.")},
            "agreement_start": {"invalid": _("Enter a date, for example 2026-03-01.")},
            "agreement_end": {"invalid": _("Enter a date, for example 2026-03-01.")},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["employee_count"] = forms.IntegerField(
            label=self.fields["employee_count"].label,
            min_value=0,
            max_value=10_000_000,
            error_messages={
                "required": _("Enter the number of employees (0 if unknown)."),
                "invalid": _("Enter the number of employees as a whole number."),
                "min_value": _("The number of employees cannot be negative."),
                "max_value": _("Check the number of employees."),
            },
        )
        self.fields["annual_revenue"] = _money_field(
            self.fields["annual_revenue"].label, required=True, max_digits=16
        )
        self.fields["annual_revenue"].error_messages["required"] = _(
            "Enter the annual revenue (0 if unknown)."
        )
        self.fields["contact_phone"].help_text = _("Shown masked on the pages.")
        self.helper = _embedded_helper(
            "name",
            Row(Column("agreement_number"), Column("agreement_start"), Column("agreement_end")),
            "terms",
            Row(Column("employee_count"), Column("annual_revenue")),
            Row(Column("contact_name"), Column("contact_phone")),
            Field("active"),
        )

    def clean_contact_phone(self):
        return phones.normalise(self.cleaned_data.get("contact_phone", ""))

    def clean(self):
        data = super().clean()
        start, end = data.get("agreement_start"), data.get("agreement_end")
        if start and end and end < start:
            self.add_error("agreement_end", _("The agreement cannot end before it starts."))
        return data

    def clean_name(self):
        # Said in words here (the service checks again, and the database decides a race); on the
        # field, so the model's unique constraint does not add a technical second message.
        name = " ".join(self.cleaned_data["name"].split())
        others = Enterprise.objects.filter(name=name).exclude(pk=self.instance.pk)
        if name and others.exists():
            raise forms.ValidationError(_("An enterprise with this name already exists."))
        return name

    def service_data(self) -> dict:
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name in services.ENTERPRISE_FIELDS
        }


class MemberSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Find the client"),
        max_length=50,
        required=False,
        widget=forms.TextInput(
            {"placeholder": _("Mobile number, last 4 digits, ID card number or name")}
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _filter_helper(self, Column("q", css_class="col-sm-12 col-lg-6"), submit=_("Search"))
        post_search(self.helper)  # a full number never goes into an address


class MemberAddForm(forms.Form):
    client = IdField(
        min_value=1,
        error_messages={
            "required": _("Choose a client."),
            "invalid": _("Choose a client."),
            "min_value": _("Choose a client."),
        },
    )


class EnterpriseImportForm(forms.Form):
    file = forms.FileField(
        label=_("Employee list"),
        help_text=_(
            "A .csv (UTF-8 or GBK) or .xlsx file. The first row names the columns: 姓名 (name),"
            " 手机 (phone) and, where known, 身份证号 (ID card number)."
        ),
        widget=forms.ClearableFileInput({"accept": ".csv,.xlsx"}),
        error_messages={"required": _("Choose the file to import.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _embedded_helper("file")


class EnterpriseImportConfirmForm(forms.Form):
    CREATE, SKIP = "create", "skip"

    payload = forms.CharField(widget=forms.HiddenInput)
    key = FormKeyField()
    new_records = forms.ChoiceField(
        label=_("Rows that match no client"),
        choices=[
            (CREATE, _("Register them as new clients and add them")),
            (SKIP, _("Leave them out")),
        ],
        initial=CREATE,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what to do with the rows that match no client.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _embedded_helper("payload", "key", "new_records")
