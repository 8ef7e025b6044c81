"""Forms of Front desk (arrivals): they check the shape of input; services enforce business rules.
The card and exam-order forms are in card_forms.py, the billing import's in charge_forms.py."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from clientmgmt import consent
from clientmgmt.forms import ClientForm
from zhongdu.forms import FormKeyField
from zhongdu.models import Department, Expert, PriceItem

from . import selectors
from .models import Visit


class DepartmentChoiceField(forms.ModelChoiceField):
    """A department with its floor: the front desk sends people by floor."""

    def label_from_instance(self, obj):
        return f"{obj.name} · {obj.floor}"


class BoardFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Name or last 4 digits"),
        required=False,
        max_length=50,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "off",
                "placeholder": _("Name or 1234"),
                "class": "form-control",
            }
        ),
    )
    department = DepartmentChoiceField(
        label=_("Department"), queryset=Department.objects.none(), required=False
    )
    state = forms.ChoiceField(label=_("State"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = selectors.departments_for_triage()
        self.fields["state"].choices = [("", _("All states")), *selectors.BOARD_STATES]
        self.fields["department"].empty_label = _("All departments")
        for name in ("department", "state"):
            self.fields[name].widget.attrs["class"] = "form-select"


class WalkInSearchForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=30,
        widget=forms.TextInput(
            attrs={
                "inputmode": "tel",
                "autocomplete": "off",
                "autofocus": True,
                "class": "form-control",
            }
        ),
    )


class WalkInClientForm(ClientForm):
    """A new client registered at the desk: the seed's registration fields (age, sex, education,
    family status, health status, exam status, contact, privacy contact person) and the channel,
    with the client form's own checks and duplicate detection, and its consents."""

    consent_channel = consent.Channel.WALK_IN

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper.layout.fields[-1] = Submit(
            "save", _("Register the arrival"), css_class="btn-primary"
        )


class TriageForm(forms.Form):
    department = DepartmentChoiceField(label=_("Department"), queryset=Department.objects.none())
    expert = forms.ModelChoiceField(
        label=_("Doctor"), queryset=Expert.objects.none(), required=False
    )
    visit_type = forms.ChoiceField(label=_("Visit type"), choices=Visit.Type.choices)
    chief_complaint = forms.CharField(
        label=_("Chief complaint"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    escort = forms.ModelChoiceField(
        label=_("Escort"), queryset=selectors.escorts().none(), required=False
    )
    # The doctors offered are those in clinic today (a session today); the others of the
    # department only on request (or when the visit already names one, as a booking may).
    all_doctors = forms.BooleanField(label=_("Show all doctors"), required=False)

    def __init__(self, *args, department=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = selectors.departments_for_triage()
        self.fields["escort"].queryset = selectors.escorts()
        self.fields["escort"].label_from_instance = selectors.user_label
        chosen = self._chosen_department(department)
        doctors = selectors.doctors_on_duty(department=chosen)
        # Any doctor of the department is accepted; the list shows who is in clinic today.
        self.fields["expert"].queryset = Expert.objects.filter(
            pk__in=[doctor.expert.pk for doctor in doctors]
        )
        labels = {doctor.expert.pk: doctor.label for doctor in doctors}
        self.fields["expert"].label_from_instance = lambda expert: labels.get(
            expert.pk, expert.name
        )
        show_all = self._show_all()
        current = str(self["expert"].value() or "")
        self.doctors = [
            doctor
            for doctor in doctors
            if show_all or doctor.session is not None or str(doctor.expert.pk) == current
        ]
        self.hidden_doctors = len(doctors) - len(self.doctors)
        self.fields["expert"].choices = [("", _("Any doctor"))] + [
            (doctor.expert.pk, doctor.label) for doctor in self.doctors
        ]

    def triage_data(self) -> dict:
        """What the triage service takes (the "show all" switch only shapes the list)."""
        return {k: v for k, v in self.cleaned_data.items() if k != "all_doctors"}

    def _show_all(self) -> bool:
        if self.is_bound:
            return self.data.get("all_doctors") in ("on", "1", "true")
        return bool(self.initial.get("all_doctors"))

    def _chosen_department(self, fallback):
        if self.is_bound:
            try:
                return Department.objects.filter(pk=int(self.data.get("department"))).first()
            except (TypeError, ValueError):
                return None
        initial = self.initial.get("department")
        return initial if isinstance(initial, Department) else fallback


class CallingForm(forms.Form):
    """The calling station's department (and doctor, whose numbers come with those for any
    doctor of the department)."""

    department = DepartmentChoiceField(label=_("Department"), queryset=Department.objects.none())
    expert = forms.ModelChoiceField(
        label=_("Doctor"), queryset=Expert.objects.none(), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = selectors.departments_for_triage()
        self.fields["expert"].queryset = Expert.objects.filter(active=True).order_by("name")
        self.fields["expert"].empty_label = _("All doctors")
        for name in ("department", "expert"):
            self.fields[name].widget.attrs["class"] = "form-select"


class DisplayScreenForm(forms.Form):
    name = forms.CharField(
        label=_("Screen"),
        max_length=60,
        help_text=_("Where it hangs, for example: 2F waiting room, left."),
    )
    department = DepartmentChoiceField(label=_("Department"), queryset=Department.objects.none())
    key = FormKeyField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = selectors.departments_for_triage()
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Row(Column("name", css_class="col-md-6"), Column("department", css_class="col-md-6")),
            "key",
            Submit("make", _("Make the screen's link")),
        )


class StatusForm(forms.Form):
    to = forms.ChoiceField(choices=Visit.Status.choices)
    detail = forms.CharField(max_length=300, required=False)


class PriceItemChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.name} · ¥{obj.price}"


class ChargeForm(forms.Form):
    price_item = PriceItemChoiceField(label=_("Item"), queryset=PriceItem.objects.none())
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=999, initial=1)
    amount = forms.DecimalField(
        label=_("Amount (yuan)"),
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text=_("Leave empty for the list price times the quantity."),
    )
    key = FormKeyField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["price_item"].queryset = PriceItem.objects.filter(active=True).order_by(
            "category", "code"
        )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(
                Column("price_item", css_class="col-md-6"),
                Column("quantity", css_class="col-md-2"),
                Column("amount", css_class="col-md-4"),
            ),
            "key",
            Submit("add", _("Add charge")),
        )
