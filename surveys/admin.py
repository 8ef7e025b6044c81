# Admin of the survey engine: administrators set the survey policy and write the survey templates
# and their questions here; invitations and responses are written by the survey page, the calls
# and the sweeps (surveys.services), so here they are read-only. Tokens
# are never shown whole (a token is the key to someone's survey); phone numbers are not shown.
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from zhongdu.admin import PolicyAdmin, ReadOnlyAdmin, ReadOnlyInline

from .models import (
    Dimension,
    SurveyAnswer,
    SurveyInvitation,
    SurveyPolicy,
    SurveyQuestion,
    SurveyResponse,
    SurveyTemplate,
)

Type = SurveyQuestion.Type
SATISFACTION_SCALES = {
    Dimension.DOCTOR,
    Dimension.NURSING,
    Dimension.FRONT_DESK,
    Dimension.ENVIRONMENT,
    Dimension.WAITING,
    Dimension.OVERALL,
    Dimension.OTHER,
}


@admin.register(SurveyPolicy)
class SurveyPolicyAdmin(PolicyAdmin):
    list_display = ["__str__", "survey_valid_days", "survey_reminder_days", "recovery_score"]


class SurveyQuestionForm(forms.ModelForm):
    class Meta:
        model = SurveyQuestion
        fields = ["order", "text", "text_en", "type", "dimension", "choices", "required"]
        widgets = {"choices": forms.Textarea({"rows": 3, "cols": 30})}

    def clean(self):
        """A question's type and dimension must fit, so that its answers average with the
        others' (a 0–10 answer in a 1–5 dimension would spoil every average)."""
        data = super().clean()
        kind, dimension = data.get("type"), data.get("dimension")
        if (
            kind == Type.CHOICE
            and not SurveyQuestion(choices=data.get("choices", "")).choice_list()
        ):
            self.add_error("choices", _("A question of one choice needs its choices, one a line."))
        if kind == Type.RECOMMEND and dimension != Dimension.RECOMMEND:
            self.add_error("dimension", _("A 0–10 question measures “Would recommend”."))
        if dimension == Dimension.RECOMMEND and kind != Type.RECOMMEND:
            self.add_error("type", _("“Would recommend” is asked as a 0–10 question."))
        if dimension == Dimension.COMMENT and kind != Type.TEXT:
            self.add_error("type", _("A comment is asked as a text question."))
        if kind == Type.SCALE and dimension not in SATISFACTION_SCALES:
            self.add_error("dimension", _("A 1–5 question measures a satisfaction dimension."))
        return data


class SurveyQuestionFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        kept = [
            form
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE", False)
        ]
        if self.instance.is_default and not kept:
            raise ValidationError(_("The default survey needs at least one question."))


class SurveyQuestionInline(admin.TabularInline):
    model = SurveyQuestion
    form = SurveyQuestionForm
    formset = SurveyQuestionFormSet
    extra = 1


class SurveyTemplateForm(forms.ModelForm):
    class Meta:
        model = SurveyTemplate
        fields = ["code", "name", "name_en", "kind", "intro", "intro_en", "is_default", "active"]

    def clean(self):
        data = super().clean()
        if not data.get("is_default"):
            return data
        if data.get("kind") != SurveyTemplate.Kind.SATISFACTION:
            self.add_error("is_default", _("Only a satisfaction survey can be the default."))
        if not data.get("active"):
            self.add_error("is_default", _("The default survey must be active."))
        # The database allows one default (surveytemplate_one_default); say so before it does.
        other = SurveyTemplate.objects.filter(is_default=True).exclude(pk=self.instance.pk).first()
        if other is not None:
            self.add_error(
                "is_default",
                _("“%(name)s” is the default survey: untick it there first.") % {"name": other},
            )
        return data


@admin.register(SurveyTemplate)
class SurveyTemplateAdmin(admin.ModelAdmin):
    form = SurveyTemplateForm
    inlines = [SurveyQuestionInline]
    list_display = ["name", "code", "kind", "is_default", "active"]
    list_filter = ["kind", "active", "is_default"]
    search_fields = ["name", "name_en", "code"]


@admin.register(SurveyInvitation)
class SurveyInvitationAdmin(ReadOnlyAdmin):
    list_display = [
        "short_token",
        "template",
        "client",
        "visit",
        "channel",
        "created_at",
        "expires_at",
        "used_at",
        "sms_sent_at",
        "reminded_at",
    ]
    list_filter = ["channel", "template"]
    list_select_related = ["template", "client", "visit"]
    date_hierarchy = "created_at"
    fields = [
        "short_token",
        "template",
        "client",
        "visit",
        "channel",
        "created_at",
        "expires_at",
        "used_at",
        "sms_sent_at",
        "reminded_at",
    ]
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description=_("link"))
    def short_token(self, obj):
        # Enough to tell two links apart, not enough to open one.
        return f"/s/{obj.token[:4]}…/"


class SurveyAnswerInline(ReadOnlyInline):
    model = SurveyAnswer
    fields = ["question", "dimension", "score", "text"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("question")


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ReadOnlyAdmin):
    inlines = [SurveyAnswerInline]
    list_display = [
        "submitted_at",
        "source",
        "template",
        "client",
        "department",
        "expert",
        "lowest_score",
        "recommend",
        "needs_recovery",
    ]
    list_filter = ["source", "needs_recovery", "template", "department"]
    list_select_related = ["template", "client", "department", "expert"]
    date_hierarchy = "submitted_at"
    fields = [
        "submitted_at",
        "source",
        "template",
        "client",
        "visit",
        "department",
        "expert",
        "lowest_score",
        "recommend",
        "needs_recovery",
        "comment",
    ]
    readonly_fields = fields
    show_full_result_count = False
