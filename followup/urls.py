# Every URL added here must be declared in zhongdu/roles.py PAGE_ACCESS as "followup:<name>".
# The public survey page is at the site's root, /s/<token>/ (zhongdu/urls.py, name "survey").
from django.urls import path
from django.views.generic import RedirectView

from . import call_views, plan_views, survey_views

app_name = "followup"
urlpatterns = [
    # Follow-up's front door is the return-visit call workbench.
    path("", RedirectView.as_view(pattern_name="followup:call_list"), name="index"),
    path("calls/", call_views.call_list, name="call_list"),
    path("calls/new/", call_views.call_new, name="call_new"),
    path("calls/<int:pk>/", call_views.call_detail, name="call_detail"),
    path("calls/<int:pk>/record/", call_views.call_record, name="call_record"),
    path("calls/<int:pk>/claim/", call_views.call_claim, name="call_claim"),
    path("calls/<int:pk>/reassign/", call_views.call_reassign, name="call_reassign"),
    path("plans/new/", plan_views.plan_new, name="plan_new"),
    path("plans/<int:pk>/", plan_views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", plan_views.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/cancel/", plan_views.plan_cancel, name="plan_cancel"),
    path("visits/<int:pk>/slip/", survey_views.visit_slip, name="visit_slip"),
    path("surveys/weekly/", survey_views.weekly, name="survey_weekly"),
    path("surveys/weekly/export/", survey_views.weekly_export, name="survey_weekly_export"),
    path("surveys/responses/", survey_views.response_list, name="response_list"),
]
