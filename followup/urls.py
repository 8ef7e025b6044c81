# Every URL added here must be declared in zhongdu/roles.py PAGE_ACCESS as "followup:<name>".
# The public survey page is at the site's root, /s/<token>/ (config/urls.py, name "survey").
from django.urls import path
from django.views.generic import RedirectView

from . import bulk_views, call_views, plan_views, round_views, survey_views

app_name = "followup"
urlpatterns = [
    # Follow-up's front door is the return-visit call workbench.
    path("", RedirectView.as_view(pattern_name="followup:call_list"), name="index"),
    path("calls/", call_views.call_list, name="call_list"),
    path("calls/new/", call_views.call_new, name="call_new"),
    path("calls/bulk/", bulk_views.call_bulk, name="call_bulk"),
    path("calls/<id:pk>/", call_views.call_detail, name="call_detail"),
    path("calls/<id:pk>/record/", call_views.call_record, name="call_record"),
    path("calls/<id:pk>/claim/", call_views.call_claim, name="call_claim"),
    path("calls/<id:pk>/reassign/", call_views.call_reassign, name="call_reassign"),
    path("plans/new/", plan_views.plan_new, name="plan_new"),
    path("plans/<id:pk>/", plan_views.plan_detail, name="plan_detail"),
    path("plans/<id:pk>/edit/", plan_views.plan_edit, name="plan_edit"),
    path("plans/<id:pk>/cancel/", plan_views.plan_cancel, name="plan_cancel"),
    path("visits/<id:pk>/slip/", survey_views.visit_slip, name="visit_slip"),
    path("surveys/weekly/", survey_views.weekly, name="survey_weekly"),
    path("surveys/weekly/export/", survey_views.weekly_export, name="survey_weekly_export"),
    path("surveys/responses/", survey_views.response_list, name="response_list"),
    path("surveys/rounds/", round_views.round_list, name="survey_round_list"),
    path("surveys/rounds/new/", round_views.round_new, name="survey_round_new"),
    path("surveys/rounds/<id:pk>/", round_views.round_detail, name="survey_round_detail"),
    path("surveys/rounds/<id:pk>/export/", round_views.round_export, name="survey_round_export"),
]
