# Admin of the post-exam service: where administrators configure what each exam item yields (a
# number with its reference ranges by sex and age, fixed answers with their flags, text, a
# report file) and the findings an out-of-range value points to. Results themselves are entered,
# imported and released on the results pages, whose services keep the history and the audit
# trail: they are not edited here.
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Finding, ReferenceRange, ResultDefinition
from .models.results import FLAG_VALUES


class ReferenceRangeForm(forms.ModelForm):
    """A range reads the right way round: low ≤ high, and the critical limits outside the
    normal range (critical below ≤ low, critical above ≥ high)."""

    class Meta:
        model = ReferenceRange
        fields = ["sex", "age_from", "age_to", "low", "high", "critical_low", "critical_high"]

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("low"), cleaned.get("high")
        critical_low, critical_high = cleaned.get("critical_low"), cleaned.get("critical_high")
        age_from, age_to = cleaned.get("age_from"), cleaned.get("age_to")
        if age_from is not None and age_to is not None and age_to < age_from:
            self.add_error("age_to", _("The age band ends before it starts."))
        if low is not None and high is not None and low > high:
            self.add_error("high", _("The upper limit is below the lower limit."))
        if low is None and high is None:
            self.add_error("low", _("Give a lower limit, an upper limit or both."))
        if critical_low is not None and (
            (low is not None and critical_low > low) or (high is not None and critical_low > high)
        ):
            self.add_error("critical_low", _("A critical low value lies below the normal range."))
        if critical_high is not None and (
            (high is not None and critical_high < high) or (low is not None and critical_high < low)
        ):
            self.add_error("critical_high", _("A critical high value lies above the normal range."))
        return cleaned


class ReferenceRangeInline(admin.TabularInline):
    model = ReferenceRange
    form = ReferenceRangeForm
    extra = 1


class ResultDefinitionForm(forms.ModelForm):
    class Meta:
        model = ResultDefinition
        fields = ["exam", "kind", "unit", "decimals", "choices", "finding", "active"]
        help_texts = {
            "choices": _(
                'The answers of a choice, in order, each with its flag: [{"value": "阴性",'
                ' "flag": "normal"}, {"value": "阳性", "flag": "abnormal"}]. Flags: normal,'
                " abnormal, critical."
            )
        }

    def clean_choices(self):
        choices = self.cleaned_data.get("choices") or []
        message = _('Write the answers as a list of {"value": ..., "flag": ...}.')
        if not isinstance(choices, list):
            raise ValidationError(message)
        seen = set()
        for choice in choices:
            if not isinstance(choice, dict) or set(choice) != {"value", "flag"}:
                raise ValidationError(message)
            value = choice["value"]
            if not isinstance(value, str) or not value.strip() or len(value) > 500:
                raise ValidationError(_("Each answer is a short text."))
            if choice["flag"] not in FLAG_VALUES:
                raise ValidationError(
                    _("%(flag)s is not a flag; use normal, abnormal or critical.")
                    % {"flag": choice["flag"]}
                )
            if value in seen:
                raise ValidationError(_("%(value)s is given twice.") % {"value": value})
            seen.add(value)
        return choices

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind == ResultDefinition.Kind.CHOICE and not cleaned.get("choices"):
            self.add_error("choices", _("A choice needs its answers."))
        if kind and kind != ResultDefinition.Kind.CHOICE and cleaned.get("choices"):
            self.add_error("choices", _("Only a choice has answers."))
        return cleaned


@admin.register(ResultDefinition)
class ResultDefinitionAdmin(admin.ModelAdmin):
    form = ResultDefinitionForm
    inlines = [ReferenceRangeInline]
    list_display = ["exam", "kind", "unit", "finding", "active"]
    list_filter = ["kind", "active"]
    list_select_related = ["exam", "finding"]
    search_fields = ["exam__code", "exam__name"]
    autocomplete_fields = ["exam"]


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "plan_template", "reexam_after_days", "active"]
    list_filter = ["active"]
    list_select_related = ["plan_template"]
    search_fields = ["code", "name"]
    filter_horizontal = ["articles"]
