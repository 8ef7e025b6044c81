from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Fieldset, Layout, Row, Submit
from django import forms
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from zhongdu import phones
from zhongdu.forms import FormKeyField, IdField
from zhongdu.models import Channel, HospitalProfile

from . import consent, validation
from .models import Client, ClientMerge

CATEGORY_CHOICES = list(Client.CATEGORIES)


class ClientForm(forms.ModelForm):
    """Create and edit a client. Checks the shape of what was typed; duplicates and consent
    rules are the services' business. A new record's form shows the privacy notice (its version)
    and asks each consent purpose (clientmgmt.consent) separately; an existing record's consents
    are changed on its page."""

    # Where the consents ticked here are recorded (the walk-in desk and the event door say so).
    consent_channel = consent.Channel.NEW_CLIENT_FORM

    id_number = forms.CharField(
        label=_("ID card number"),
        required=False,
        max_length=30,
        help_text=_("Optional. 18 characters; checked against the date of birth."),
    )
    categories = forms.MultipleChoiceField(
        label=_("Archive categories"),
        choices=CATEGORY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    confirm_distinct = forms.BooleanField(
        label=_("I checked the records above: this is a different person."),
        required=False,
    )
    # A new record's one-time key: a double click or a second tab registers the person once.
    key = FormKeyField()

    class Meta:
        model = Client
        fields = [
            "name",
            "sex",
            "date_of_birth",
            "education",
            "family_status",
            "health_status",
            "exam_status",
            "phone",
            "other_contact",
            "privacy_contact_name",
            "privacy_contact_relation",
            "privacy_contact_phone",
            "source_channel",
            "notes",
        ]
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 3}),
            "phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
            "privacy_contact_phone": forms.TextInput(attrs={"inputmode": "tel"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source_channel"].queryset = Channel.objects.filter(active=True)
        if self.instance.pk:
            # Numbers are never put back into the page in full: the form shows them masked and
            # keeps the stored value unless staff type a new one.
            self.initial["phone"] = ""
            self.initial["privacy_contact_phone"] = ""
            self.fields["phone"].widget.attrs["placeholder"] = self.instance.phone_masked
            self.fields["privacy_contact_phone"].widget.attrs["placeholder"] = (
                self.instance.privacy_contact_phone_masked
            )
            self.fields["id_number"].widget.attrs["placeholder"] = self.instance.id_number_masked
            self.fields["phone"].help_text = _("Leave empty to keep the number on record.")
            self.initial["categories"] = [
                name for name, _label in CATEGORY_CHOICES if getattr(self.instance, name)
            ]
        consent_column = []
        if not self.instance.pk:
            consent_column = self._add_consent_fields()
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(
                _("Person"),
                Row(
                    Column("name", css_class="col-md-4"),
                    Column("sex", css_class="col-md-2"),
                    Column("date_of_birth", css_class="col-md-3"),
                    Column("id_number", css_class="col-md-3"),
                ),
                Row(
                    Column("education", css_class="col-md-3"),
                    Column("family_status", css_class="col-md-3"),
                    Column("health_status", css_class="col-md-3"),
                    Column("exam_status", css_class="col-md-3"),
                ),
            ),
            Fieldset(
                _("Contact"),
                Row(
                    Column("phone", css_class="col-md-4"),
                    Column("other_contact", css_class="col-md-8"),
                ),
                Row(
                    Column("privacy_contact_name", css_class="col-md-4"),
                    Column("privacy_contact_relation", css_class="col-md-3"),
                    Column("privacy_contact_phone", css_class="col-md-5"),
                ),
            ),
            Fieldset(
                _("Archive and consent"),
                Row(
                    Column("categories", css_class="col-md-4"),
                    Column("source_channel", css_class="col-md-4"),
                    Column(*consent_column, css_class="col-md-4"),
                ),
                "notes",
            ),
            HTML('{% if duplicates %}<div class="alert alert-warning">{% endif %}'),
            "confirm_distinct",
            HTML("{% if duplicates %}</div>{% endif %}"),
            "key",
            Submit("save", _("Save"), css_class="btn-primary"),
        )

    def clean_name(self):
        return validation.clean_name(self.cleaned_data.get("name", ""))

    def clean_phone(self):
        value = phones.normalise(self.cleaned_data.get("phone", ""))
        if not value and self.instance.pk:
            return self.instance.phone  # left empty: keep the number on record
        return value

    def clean_privacy_contact_phone(self):
        value = phones.normalise(self.cleaned_data.get("privacy_contact_phone", ""))
        if not value and self.instance.pk:
            return self.instance.privacy_contact_phone
        return value

    def clean_id_number(self):
        return validation.clean_id_number(self.cleaned_data.get("id_number", ""))

    def clean_date_of_birth(self):
        return validation.clean_date_of_birth(self.cleaned_data.get("date_of_birth"))

    def clean(self):
        cleaned = super().clean()
        id_number, born = cleaned.get("id_number"), cleaned.get("date_of_birth")
        if id_number and born and validation.id_number_birth_date(id_number) != born:
            self.add_error(
                "id_number",
                _("The birth date in this ID card number (%(date)s) is not the date of birth.")
                % {"date": validation.id_number_birth_date(id_number).isoformat()},
            )
        if not self.instance.pk:
            self._clean_consents(cleaned)
        for name, _label in CATEGORY_CHOICES:
            cleaned[name] = name in cleaned.get("categories", [])
        return cleaned

    def service_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data.update({name: self.cleaned_data[name] for name, _label in CATEGORY_CHOICES})
        data["id_number"] = self.cleaned_data.get("id_number", "")
        if not self.instance.pk:
            data["consents"] = {code: self.cleaned_data[code] for code in consent.PURPOSES}
            data["consent_channel"] = self.consent_channel
            data["consent_method"] = self.cleaned_data.get("consent_method", "")
        return data

    def _add_consent_fields(self) -> list:
        """One tick per purpose, named by its code (clientmgmt.consent.PURPOSES), and how the
        client said so; the notice's version above them. Returns the layout's column."""
        version = HospitalProfile.current().privacy_notice_version
        for code, purpose in consent.PURPOSES.items():
            self.fields[code] = forms.BooleanField(
                label=purpose.label,
                required=False,
                initial=purpose.default,
                help_text=purpose.agreement,
            )
        self.fields["consent_method"] = forms.ChoiceField(
            label=_("How the client agreed"),
            choices=[("", "---------"), *consent.Method.choices],
            required=False,
        )
        notice = format_html(
            '<p class="small mb-1" data-testid="notice-version">{}</p>',
            _("Privacy notice version %(version)s: read it to the client or show it.")
            % {"version": version or "—"},
        )
        return [
            HTML(notice),
            HTML('{% include "zhongdu/_privacy_notice.html" %}'),
            *consent.PURPOSES,
            "consent_method",
        ]

    def _clean_consents(self, cleaned) -> None:
        if cleaned.get(consent.MARKETING_SMS) and not cleaned.get("consent_method"):
            self.add_error("consent_method", _("Record how the client agreed to marketing SMS."))
        for code, purpose in consent.PURPOSES.items():
            refused = [need for need in purpose.needs if not cleaned.get(need)]
            if cleaned.get(code) and refused:
                self.add_error(
                    code,
                    _("%(purpose)s needs consent to %(needed)s first.")
                    % {
                        "purpose": purpose.label,
                        "needed": consent.get_purpose(refused[0]).label,
                    },
                )

    def check_duplicates(self, *, exclude_pk=None) -> tuple[list, bool]:
        """(records that may be this person, whether saving must stop to show them). A matching
        ID card cannot be overridden (the database would refuse it anyway); other matches stop
        the save until staff tick confirm_distinct. Call after is_valid()."""
        from zhongdu import crypto

        from .selectors import client_duplicates

        data = self.service_data()
        duplicates = client_duplicates(
            phone=data["phone"],
            id_number=data["id_number"],
            name=data["name"],
            date_of_birth=data["date_of_birth"],
            exclude_pk=exclude_pk,
        )
        if data["id_number"]:
            wanted = crypto.keyed_hash(data["id_number"])
            if any(other.id_number_hash == wanted for other in duplicates):
                self.add_error("id_number", _("This ID card number belongs to another record."))
                return duplicates, True
        return duplicates, bool(duplicates) and not self.cleaned_data.get("confirm_distinct")

    def _post_clean(self):
        # The services set the instance's fields; ModelForm must not write them first.
        pass


class ConsentForm(forms.Form):
    """The client page's consent controls: one purpose granted or withdrawn, and how the client
    said so (a grant needs it)."""

    GRANT = "grant"
    WITHDRAW = "withdraw"

    purpose = forms.ChoiceField(choices=consent.purpose_choices)
    answer = forms.ChoiceField(choices=[(GRANT, _("Agreed")), (WITHDRAW, _("Withdrawn"))])
    method = forms.ChoiceField(choices=[("", ""), *consent.Method.choices], required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("answer") == self.GRANT and not cleaned.get("method"):
            raise forms.ValidationError(_("Record how the client agreed."))
        return cleaned


class RevealForm(forms.Form):
    field = forms.ChoiceField(
        choices=[("phone", "phone"), ("privacy_contact_phone", "privacy"), ("id_number", "id")],
        widget=forms.HiddenInput,
    )
    reason = forms.CharField(
        label=_("Why do you need the full number?"),
        max_length=200,
        min_length=2,
        widget=forms.TextInput(
            attrs={"placeholder": _("e.g. calling back about tomorrow's booking")}
        ),
    )


class MergePickForm(forms.Form):
    """The records already picked on the merge page (its links carry them, nobody types them)."""

    survivor = IdField(required=False)
    merged = IdField(required=False)


class MergeForm(forms.Form):
    survivor = IdField(widget=forms.HiddenInput)
    merged = IdField(widget=forms.HiddenInput)
    key = FormKeyField()

    KEEP = (("survivor", _("the record that stays")), ("merged", _("the merged record")))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Where the two differ, whose value the record that stays keeps (its own unless chosen).
        for name in ClientMerge.KEEPABLE:
            self.fields[f"keep_{name}"] = forms.ChoiceField(choices=self.KEEP, required=False)

    def keep_merged(self) -> list[str]:
        """The fields whose value staff chose from the merged record."""
        data = getattr(self, "cleaned_data", {})
        return [name for name in ClientMerge.KEEPABLE if data.get(f"keep_{name}") == "merged"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("survivor") and cleaned.get("survivor") == cleaned.get("merged"):
            raise forms.ValidationError(_("Choose two different records."))
        return cleaned


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Client list"),
        help_text=_(
            "A .csv (UTF-8 or GBK) or .xlsx file of at most 10,000 rows. The first row names the "
            "columns: 姓名, 性别, 出生日期, 手机, 身份证号, 其他联系方式, 备注."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    key = FormKeyField()
