# The post-exam service's pages, under /guide/exams/ (results of an order at
# /guide/exams/<id>/results/). Each block belongs to one views module.
from django.urls import path

from . import result_views

app_name = "exams"

urlpatterns: list = [
    # --- results (result_views) ---
    path("results/", result_views.results_worklist, name="results_worklist"),
    path("<int:pk>/results/", result_views.results, name="results"),
    path("<int:pk>/results/import/", result_views.results_import, name="results_import"),
    path("<int:pk>/results/release/", result_views.results_release, name="results_release"),
    path("<int:pk>/results/<int:item_pk>/", result_views.result_save, name="result_save"),
    path("<int:pk>/results/<int:item_pk>/file/", result_views.result_file, name="result_file"),
    # --- assessment, plan and report (assessment_views) ---
    # --- abnormal and critical results followed (alert_views) ---
]
