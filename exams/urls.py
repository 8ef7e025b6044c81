# The post-exam service's pages, under /guide/exams/ (results of an order at
# /guide/exams/<id>/results/). Each block belongs to one views module.
from django.urls import path

from . import alert_views

app_name = "exams"

urlpatterns: list = [
    # --- results (result_views) ---
    # --- assessment, plan and report (assessment_views) ---
    # --- abnormal and critical results followed (alert_views) ---
    path("alerts/", alert_views.alert_list, name="alerts"),
    path("alerts/<int:pk>/", alert_views.alert_detail, name="alert_detail"),
    path("alerts/<int:pk>/record/", alert_views.alert_record, name="alert_record"),
]
