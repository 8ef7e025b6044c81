# Every URL added here must be declared in zhongdu/roles.py PAGE_ACCESS as "followup:<name>".
# The survey pages under /followup/surveys/ are the surveys app's (surveys/urls.py).
from django.urls import path
from django.views.generic import RedirectView

from . import bulk_views, call_views, plan_views, views

app_name = "followup"
urlpatterns = [
    # Follow-up's front door is the return-visit call workbench.
    path("", RedirectView.as_view(pattern_name="followup:call_list"), name="index"),
    path("calls/", call_views.call_list, name="call_list"),
    path("calls/new/", call_views.call_new, name="call_new"),
    path("calls/bulk/", bulk_views.call_bulk, name="call_bulk"),
    path("calls/<id:pk>/", call_views.call_detail, name="call_detail"),
    path("calls/<id:pk>/record/", call_views.call_record, name="call_record"),
    path("calls/<id:pk>/answer/", call_views.call_answer, name="call_answer"),
    path("calls/<id:pk>/claim/", call_views.call_claim, name="call_claim"),
    path("calls/<id:pk>/reassign/", call_views.call_reassign, name="call_reassign"),
    path("plans/new/", plan_views.plan_new, name="plan_new"),
    path("plans/<id:pk>/", plan_views.plan_detail, name="plan_detail"),
    path("plans/<id:pk>/edit/", plan_views.plan_edit, name="plan_edit"),
    path("plans/<id:pk>/cancel/", plan_views.plan_cancel, name="plan_cancel"),
    path("visits/<id:pk>/slip/", views.visit_slip, name="visit_slip"),
]
