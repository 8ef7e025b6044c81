"""Forms of the results pages: one small form per examination, shaped by what it yields (a
number with its unit, one of fixed answers, a text, a report file), the release's confirmation,
the worklist's filter and the laboratory file's upload and confirmation. Forms check the shape
of the input; exams.services enforces the rules (answers, release, corrections)."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from clientmgmt.imports import MAX_BYTES
from zhongdu.controlchars import has_control_characters

from . import selectors, services
from .models import ResultDefinition

# What a report file's first bytes are, by the type it is stored as: the browser's word for the
# type is not trusted.
FILE_SIGNATURES = {
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"%PDF-": "application/pdf",
}


def _single_line(value: str, field_label) -> str:
    value = (value or "").strip()
    if has_control_characters(value):
        raise ValidationError(
            _("%(field)s contains an invisible control character; type it again.")
            % {"field": field_label}
        )
    return value


def _embedded_helper():
    """Fields inside the page's own <form> (which carries the token and the buttons)."""
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    return helper


class ResultEntryForm(forms.Form):
    """The value of one examination. `released`: the order's results are released, so a
    correction says why. `revision` is the revision the form shows (a double click, or a value
    recorded meanwhile in another tab, is recognised by the service)."""

    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)
    reason = forms.CharField(
        label=_("Reason for the correction"),
        max_length=200,
        required=False,
        help_text=_("The results are released: the earlier value stays in the history."),
    )

    def __init__(self, *args, definition: ResultDefinition, released: bool, **kwargs):
        item_pk = kwargs.pop("item_pk")
        kwargs.setdefault("auto_id", f"id_%s_{item_pk}")
        super().__init__(*args, **kwargs)
        self.definition, self.released = definition, released
        kind = definition.kind
        if kind == ResultDefinition.Kind.NUMBER:
            self.fields["value"] = forms.CharField(
                label=_("Value") + (f" ({definition.unit})" if definition.unit else ""),
                max_length=30,
                widget=forms.TextInput({"inputmode": "decimal", "autocomplete": "off"}),
                error_messages={"required": _("Enter the value.")},
            )
        elif kind == ResultDefinition.Kind.CHOICE:
            answers = [(c["value"], c["value"]) for c in definition.choices]
            self.fields["value"] = forms.ChoiceField(
                label=_("Answer"),
                choices=[("", "—"), *answers],
                error_messages={
                    "required": _("Choose the answer."),
                    "invalid_choice": _("Choose one of the answers offered."),
                },
            )
        elif kind == ResultDefinition.Kind.TEXT:
            self.fields["value"] = forms.CharField(
                label=_("Result"),
                max_length=500,
                widget=forms.Textarea({"rows": 2}),
                error_messages={
                    "required": _("Write the result."),
                    "max_length": _("Keep the result under 500 characters."),
                },
            )
        else:
            self.fields["file"] = forms.FileField(
                label=_("Report file (JPEG, PNG or PDF, at most 10 MB)"),
                widget=forms.ClearableFileInput({"accept": ".jpg,.jpeg,.png,.pdf"}),
                error_messages={"required": _("Attach the report file.")},
            )
        self.fields["reason"].required = released
        if not released:
            self.fields["reason"].widget = forms.HiddenInput()
        self.helper = _embedded_helper()

    def clean_value(self):
        value = self.cleaned_data["value"]
        if self.definition.kind == ResultDefinition.Kind.NUMBER:
            return services.parse_number(value, self.definition)
        if self.definition.kind == ResultDefinition.Kind.TEXT:
            if has_control_characters(value, multiline=True):
                raise ValidationError(
                    _("The result contains an invisible control character; type it again.")
                )
            return value.strip()
        return value

    def clean_reason(self):
        return _single_line(self.cleaned_data["reason"], _("The reason"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > services.MAX_FILE_BYTES:
            raise ValidationError(_("A report file is at most 10 MB."))
        data = upload.read()
        content_type = next(
            (kind for magic, kind in FILE_SIGNATURES.items() if data.startswith(magic)), None
        )
        if content_type is None:
            raise ValidationError(_("Attach a JPEG or PNG image or a PDF."))
        return (upload.name[:120], content_type, data)

    def value_kwargs(self) -> dict:
        """What exams.services.result_record takes from this form."""
        data = self.cleaned_data
        if "file" in data:
            return {"file": data["file"]}
        if self.definition.kind == ResultDefinition.Kind.NUMBER:
            return {"number": data["value"]}
        return {"text": data["value"]}


class ReleaseForm(forms.Form):
    """The release's confirmation: the clinician ticks that they reviewed every value."""

    confirm = forms.BooleanField(
        label=_("I have reviewed every result of this order and release them."),
        error_messages={"required": _("Tick the box to confirm the release.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _embedded_helper()


class WorklistFilterForm(forms.Form):
    waiting = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[
            (selectors.BOTH, _("Results to enter or release")),
            (selectors.TO_ENTER, _("Results still to enter")),
            (selectors.TO_RELEASE, _("Complete, awaiting release")),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_class = "d-print-none mb-3"
        self.helper.disable_csrf = True
        self.helper.layout = Row(
            Column("waiting", css_class="col-sm-6 col-md-4"),
            Column(Submit("show", _("Show")), css_class="col-auto align-self-end mb-3"),
        )


class ResultImportForm(forms.Form):
    file = forms.FileField(
        label=_("Laboratory file"),
        help_text=_(
            "A .csv (UTF-8 or GBK) or .xlsx file of this order's results. The first row names"
            " the columns: 项目编码 (code), 结果 (value) and, where given, 单位 (unit)."
        ),
        widget=forms.ClearableFileInput({"accept": ".csv,.xlsx"}),
        error_messages={"required": _("Choose the file to import.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _embedded_helper()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise ValidationError(_("The file is larger than 5 MB; split it into smaller files."))
        return upload


class ResultImportConfirmForm(forms.Form):
    payload = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason for the corrections"),
        max_length=200,
        required=False,
        help_text=_(
            "The results are released: rows that change a value are recorded as corrections"
            " with this reason, or left out without one."
        ),
    )

    def __init__(self, *args, released=False, **kwargs):
        super().__init__(*args, **kwargs)
        if not released:
            self.fields["reason"].widget = forms.HiddenInput()
        self.helper = _embedded_helper()
        self.helper.layout = Layout("payload", "reason")

    def clean_reason(self):
        return _single_line(self.cleaned_data["reason"], _("The reason"))
