# The team reports of an enterprise's exam rounds, under the enterprise's address
# (/vip/enterprises/<id>/exam-report/, /vip/enterprises/<id>/exam-rounds/...): included from
# config/urls.py before vip's own URLs (vip cannot import exams). Every name is in
# zhongdu/roles.py PAGE_ACCESS as "teams:<name>".
from django.urls import path

from . import team_views

app_name = "teams"

urlpatterns = [
    path("<id:pk>/exam-report/", team_views.report, name="report"),
    path("<id:pk>/exam-report/pdf/", team_views.report_pdf, name="report_pdf"),
    path("<id:pk>/exam-rounds/new/", team_views.round_new, name="round_new"),
    path("<id:pk>/exam-rounds/<id:round_pk>/edit/", team_views.round_edit, name="round_edit"),
    path("<id:pk>/exam-rounds/<id:round_pk>/sent/", team_views.round_sent, name="round_sent"),
]
