from django import forms
from django.utils.translation import gettext_lazy as _

from zhongdu.controlchars import has_control_characters

from .models import Call


class ListenForm(forms.Form):
    """Why someone listens to a call (the audit trail keeps it). The middleware refuses most
    control characters (zhongdu.middleware.ControlCharacterMiddleware); a reason is one line, so
    the tab and line breaks it lets through are refused here."""

    reason = forms.CharField(
        label=_("Why do you need to listen to this call?"),
        max_length=200,
        min_length=2,
        widget=forms.TextInput(
            attrs={"placeholder": _("e.g. checking what was promised about a complaint")}
        ),
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"]
        if has_control_characters(reason):
            raise forms.ValidationError(
                _("The reason is one line of text, without invisible characters."),
                code="control_characters",
            )
        return reason


class DialForm(forms.Form):
    """The call button's post: which list and which task (never a number)."""

    worklist = forms.ChoiceField(choices=Call.Worklist.choices)
    task = forms.IntegerField(min_value=1, max_value=2**53)
