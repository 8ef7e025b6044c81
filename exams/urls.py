# The post-exam service's pages, under /guide/exams/ (results of an order at
# /guide/exams/<id>/results/). Each block belongs to one views module.
from django.urls import path

from . import alert_views, assessment_views, result_views

app_name = "exams"

urlpatterns: list = [
    # --- results (result_views) ---
    path("results/", result_views.results_worklist, name="results_worklist"),
    path("<id:pk>/results/", result_views.results, name="results"),
    path("<id:pk>/results/import/", result_views.results_import, name="results_import"),
    path("<id:pk>/results/release/", result_views.results_release, name="results_release"),
    path("<id:pk>/results/<id:item_pk>/", result_views.result_save, name="result_save"),
    path("<id:pk>/results/<id:item_pk>/file/", result_views.result_file, name="result_file"),
    # --- assessment, plan and report (assessment_views) ---
    path("<id:pk>/assessment/", assessment_views.assessment, name="assessment"),
    path("<id:pk>/report.pdf", assessment_views.report_pdf, name="report_pdf"),
    # --- abnormal and critical results followed (alert_views) ---
    path("alerts/", alert_views.alert_list, name="alerts"),
    path("alerts/<id:pk>/", alert_views.alert_detail, name="alert_detail"),
    path("alerts/<id:pk>/record/", alert_views.alert_record, name="alert_record"),
]
