# Every URL added here must be declared in zhongdu/roles.py PAGE_ACCESS as "surveys:<name>".
# The addresses stay under /followup/surveys/ (config/urls.py); the public survey page is at the
# site's root, /s/<token>/ (name "survey").
from django.urls import path

from . import views

app_name = "surveys"
urlpatterns = [
    path("weekly/", views.weekly, name="weekly"),
    path("weekly/export/", views.weekly_export, name="weekly_export"),
    path("responses/", views.response_list, name="response_list"),
    path("rounds/", views.round_list, name="round_list"),
    path("rounds/new/", views.round_new, name="round_new"),
    path("rounds/<id:pk>/", views.round_detail, name="round_detail"),
    path("rounds/<id:pk>/export/", views.round_export, name="round_export"),
]
