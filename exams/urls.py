# The post-exam service's pages, under /guide/exams/ (results of an order at
# /guide/exams/<id>/results/). Each block belongs to one views module.
from django.urls import path  # noqa: F401  (the blocks below use it)

app_name = "exams"

urlpatterns: list = [
    # --- results (result_views) ---
    # --- assessment, plan and report (assessment_views) ---
    # --- abnormal and critical results followed (alert_views) ---
]
