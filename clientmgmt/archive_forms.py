"""Forms of the archives (客户档案): the list's filters, the ticked rows, and the export. They
check the shape of what was sent; the services and the selectors do the rest."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from zhongdu.forms import DayField
from zhongdu.models import Channel, Department

from .services import BULK_LIMIT


class ArchiveFilterForm(forms.Form):
    category = forms.ChoiceField(
        label=_("Archive category"),
        required=False,
        choices=[
            ("", _("All clients")),
            ("patient", _("Patients")),
            ("member", _("Members")),
            ("exam_client", _("Exam clients")),
        ],
    )
    visited_from = DayField(
        label=_("Last visit on or after"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    visited_before = DayField(
        label=_("Last visit before"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    department = forms.ModelChoiceField(
        label=_("Visited the department"),
        queryset=Department.objects.filter(active=True),
        required=False,
    )
    channel = forms.ModelChoiceField(
        label=_("Heard of us through"), queryset=Channel.objects.all(), required=False
    )
    vip = forms.ChoiceField(
        label=_("VIP"),
        required=False,
        choices=[("", _("Everyone")), ("yes", _("VIPs only")), ("no", _("Not VIPs"))],
    )
    not_reviewed_months = forms.IntegerField(
        label=_("Archive not reviewed for (months)"),
        required=False,
        min_value=1,
        max_value=120,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Row(
                Column("category", css_class="col-md-3"),
                Column("visited_from", css_class="col-md-2"),
                Column("visited_before", css_class="col-md-2"),
                Column("department", css_class="col-md-2"),
                Column("channel", css_class="col-md-3"),
            ),
            Row(
                Column("vip", css_class="col-md-3"),
                Column("not_reviewed_months", css_class="col-md-3"),
            ),
            Submit("filter", _("Show"), css_class="btn-primary"),
        )

    def filters(self) -> dict:
        """The valid filters (an invalid one is left out, never a server error)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}


def filters_from_query(query: str) -> tuple[dict, str]:
    """The filters of the list page's query string (posted back by the bulk form), and the
    query string rebuilt from what was valid (safe to put in a redirect)."""
    form = ArchiveFilterForm(QueryDict(query or ""))
    filters = form.filters()
    clean = QueryDict(mutable=True)
    for name in filters:
        clean[name] = form.data.get(name, "")
    return filters, clean.urlencode()


def ticked_ids(data) -> list[int]:
    """The ticked rows' ids (`client` checkboxes): digits only, at most one more than
    BULK_LIMIT (so a service can refuse a request that names too many)."""
    ids = []
    for value in data.getlist("client")[: BULK_LIMIT + 1]:
        value = str(value).strip()
        if value.isdigit() and len(value) < 12:
            ids.append(int(value))
    return ids


class ArchiveExportForm(forms.Form):
    """Rendered inside the list's bulk form, beside the other actions: no `required` attribute,
    or the browser would refuse "mark reviewed" until an export reason is typed."""

    SELECTED = "selected"
    FILTERED = "filtered"
    use_required_attribute = False

    scope = forms.ChoiceField(
        label=_("Export"),
        choices=[(SELECTED, _("the ticked rows")), (FILTERED, _("every row of these filters"))],
        initial=SELECTED,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    format = forms.ChoiceField(
        label=_("Format"),
        choices=[("xlsx", "Excel (.xlsx)"), ("csv", "CSV")],
        initial="xlsx",
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    reason = forms.CharField(
        label=_("Why do you export these clients?"),
        min_length=2,
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "class": "form-control form-control-sm",
                "placeholder": _("e.g. this month's maintenance calls"),
            }
        ),
    )
