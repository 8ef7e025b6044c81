"""The online consultation's forms: the person's question (text and photos), staff answers and
assignment."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from zhongdu.forms import FormKeyField

from .consult_services import MAX_PHOTOS, MAX_TEXT, photo_clean


class PhotosInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to MAX_PHOTOS photos, each checked by its bytes (JPEG or PNG), its size, and
    re-encoded without metadata: cleans to a list of consult_services.Photo."""

    widget = PhotosInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs.update({"accept": "image/jpeg,image/png"})

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if len(files) > MAX_PHOTOS:
            raise ValidationError(_("Attach at most %(n)s photos.") % {"n": MAX_PHOTOS})
        photos, errors = [], []
        for upload in files:
            try:
                photos.append(photo_clean(upload.read(), upload.name or ""))
            except ValidationError as error:
                errors.extend(error.messages)
        if errors:
            raise ValidationError(errors)
        return photos


class QuestionForm(forms.Form):
    text = forms.CharField(
        label=_("Your question"),
        max_length=MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Describe what you see, since when, and what you have tried."),
    )
    photos = PhotosField(
        label=_("Photos"),
        help_text=_("JPEG or PNG photos; location and camera details are removed."),
    )
    key = FormKeyField()

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not (cleaned.get("text") or "").strip() and not cleaned["photos"]:
            raise ValidationError(_("Write your question or attach a photo."))
        return cleaned


class AnswerForm(forms.Form):
    text = forms.CharField(
        label=_("Answer"), max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 5})
    )
    key = FormKeyField()


class AssignForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Assign to"), queryset=None)

    def __init__(self, *args, consultants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = consultants
        self.fields["user"].widget.attrs["class"] = "form-select form-select-sm"
        self.fields["user"].label_from_instance = lambda user: (
            user.get_full_name() or user.get_username()
        )
