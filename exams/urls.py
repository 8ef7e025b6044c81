# The post-exam service's pages, under /guide/exams/ (results of an order at
# /guide/exams/<id>/results/). Each block belongs to one views module.
from django.urls import path

from . import alert_views, assessment_views

app_name = "exams"

urlpatterns: list = [
    # --- results (result_views) ---
    # --- assessment, plan and report (assessment_views) ---
    path("<id:pk>/assessment/", assessment_views.assessment, name="assessment"),
    path("<id:pk>/report.pdf", assessment_views.report_pdf, name="report_pdf"),
    # --- abnormal and critical results followed (alert_views) ---
    path("alerts/", alert_views.alert_list, name="alerts"),
    path("alerts/<id:pk>/", alert_views.alert_detail, name="alert_detail"),
    path("alerts/<id:pk>/record/", alert_views.alert_record, name="alert_record"),
]
