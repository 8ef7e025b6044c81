# Forms of the membership-card and exam-order pages: they check the shape of input; the services
# (guide.services) enforce the business rules (one live card, legal status moves, ...).
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Layout, Row, Submit
from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhongdu.forms import DayField, FormKeyField
from zhongdu.models import PriceItem
from zhongdu.private_query import post_search

from . import selectors, services
from .models import ExamOrder, MembershipCard


def _lazy_format(message, **values):
    """`message % values`, translated when shown (not at import, before any language is on)."""
    return lazy(lambda: str(message) % values, str)()


_MONTHS_ERROR = _lazy_format(
    _("A card is valid for 1 to %(max)s months."), max=services.MAX_CARD_MONTHS
)


def _months_field():
    return forms.IntegerField(
        label=_("Months"),
        min_value=1,
        max_value=services.MAX_CARD_MONTHS,
        error_messages={
            "required": _MONTHS_ERROR,
            "invalid": _MONTHS_ERROR,
            "min_value": _MONTHS_ERROR,
            "max_value": _MONTHS_ERROR,
        },
    )


def _fee_field():
    return forms.DecimalField(
        label=_("Fee (yuan)"),
        min_value=0,
        max_digits=10,
        decimal_places=2,
        error_messages={
            "required": _("Enter the fee (0 if none)."),
            "invalid": _("Enter the fee in yuan, e.g. 200 or 200.50."),
            "min_value": _("The fee cannot be negative."),
        },
    )


def _get_helper(submit_label):
    """The filter bar of a list page: a GET form laid out in one row."""
    helper = FormHelper()
    helper.form_method = "get"
    helper.form_class = "d-print-none mb-3"
    helper.disable_csrf = True
    return helper, Submit("show", submit_label)


# --- Membership cards ---------------------------------------------------------------


class CardFilterForm(forms.Form):
    """The card list's search box and filters; anything malformed falls back to no filter."""

    q = forms.CharField(
        label=_("Search"),
        max_length=50,
        required=False,
        widget=forms.TextInput(
            {"placeholder": _("Card number, client's name or last 4 digits of the phone")}
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("All")), *MembershipCard.Status.choices], required=False
    )
    expiring = forms.BooleanField(
        label=_lazy_format(_("Expiring within %(days)s days"), days=selectors.EXPIRING_DAYS),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper, submit = _get_helper(_("Show"))
        self.helper.layout = Row(
            Column("q", css_class="col-sm-12 col-lg-5"),
            Column("status", css_class="col-sm-6 col-lg-3"),
            Column("expiring", css_class="col-sm-6 col-lg-auto align-self-end"),
            Column(submit, css_class="col-auto align-self-end mb-3"),
        )
        post_search(self.helper)  # a full number typed into q never goes into an address


class CardIssueForm(forms.Form):
    number = forms.CharField(
        label=_("Card number"),
        max_length=20,
        help_text=_("The number printed on the card."),
        error_messages={"required": _("Enter the card number.")},
    )
    level = forms.ChoiceField(
        label=_("Level"),
        choices=MembershipCard.Level.choices,
        error_messages={"invalid_choice": _("Choose the card level.")},
    )
    valid_from = DayField(
        label=_("Valid from"),
        widget=forms.DateInput({"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("Enter the first day of validity."),
            "invalid": _("Enter a date, for example 2026-03-01."),
        },
    )
    months = _months_field()
    fee = _fee_field()
    key = FormKeyField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the page's own <form> carries the token
        self.helper.layout = Layout(
            Row(Column("number"), Column("level")),
            Row(Column("valid_from"), Column("months"), Column("fee")),
            "key",
        )

    def issue_kwargs(self) -> dict:
        """card_issue's arguments: the form's one-time key issues the card once."""
        data = dict(self.cleaned_data)
        data["request_key"] = data.pop("key")
        return data

    def clean_number(self):
        # The number's shape (letters then digits) is the one the client search recognises.
        return services.card_number_clean(self.cleaned_data["number"])


class CardRenewForm(forms.Form):
    months = _months_field()
    fee = _fee_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the page's own <form> carries the token
        self.helper.layout = Row(Column("months"), Column("fee"))


class CardStatusForm(forms.Form):
    """Suspend, reactivate or cancel: the status is the value of the button pressed."""

    status = forms.ChoiceField(
        choices=MembershipCard.Status.choices,
        error_messages={
            "required": _("Choose what to do with the card."),
            "invalid_choice": _("Choose what to do with the card."),
        },
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        required=False,
        help_text=_("Required to suspend or cancel the card."),
    )


# --- Exam orders --------------------------------------------------------------------

AWAITING = "awaiting"


class ExamFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            *ExamOrder.Status.choices,
            (AWAITING, _("Awaiting health assessment")),
            ("all", pgettext_lazy("exam orders", "All")),
        ],
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper, submit = _get_helper(_("Show"))
        self.helper.layout = Row(
            Column("status", css_class="col-sm-6 col-lg-3"),
            Column(submit, css_class="col-auto align-self-end mb-3"),
        )


class PackageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, package):
        # exam_packages() prefetches the items: no query per choice.
        items = "、".join(item.name for item in package.items.all())
        label = f"{package.price_item.name} · ¥{package.price_item.price}"
        return f"{label} ({items})" if items else label


class ExamItemChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, item):
        return f"{item.code} {item.name} · ¥{item.price}"


class ExamOrderForm(forms.Form):
    package = PackageChoiceField(
        label=_("Exam package"),
        queryset=selectors.exam_packages(),
        required=False,
        empty_label=_("No package"),
        blank=True,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose a package from the list.")},
    )
    items = ExamItemChoiceField(
        label=_("Single examinations"),
        queryset=PriceItem.objects.filter(category=PriceItem.Category.EXAM, active=True).order_by(
            "code"
        ),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Added to the package, or ordered on their own."),
        error_messages={
            "invalid_choice": _("Choose examinations from the list."),
            "invalid_pk_value": _("Choose examinations from the list."),
        },
    )
    key = FormKeyField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the page's own <form> carries the token
        self.helper.layout = Layout(Field("package"), Field("items"), "key")

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("package") and not data.get("items"):
            raise forms.ValidationError(_("Choose a package or at least one examination."))
        return data


class ExamItemDoneForm(forms.Form):
    done = forms.TypedChoiceField(choices=[("1", "1"), ("0", "0")], coerce=lambda v: v == "1")


class ExamCompleteForm(forms.Form):
    result_summary = forms.CharField(
        label=_("Result summary"),
        max_length=5000,
        widget=forms.Textarea({"rows": 4}),
        error_messages={"required": _("Write the result summary.")},
    )


class ExamCancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the cancellation"),
        max_length=200,
        error_messages={"required": _("Give the reason for the cancellation.")},
    )
