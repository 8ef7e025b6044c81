# Every URL added here must be declared in zhongdu/roles.py PAGE_ACCESS as "reports:<name>".
from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("figures/<slug:key>/", views.figure_records, name="figure_records"),
    path("satisfaction/", views.satisfaction_report, name="satisfaction"),
    path("satisfaction/export/", views.satisfaction_export, name="satisfaction_export"),
    path("packs/", views.pack_list, name="pack_list"),
    path("packs/preview/", views.pack_preview, name="pack_preview"),
    path("packs/preview/pdf/", views.pack_preview_pdf, name="pack_preview_pdf"),
    path("packs/make/", views.pack_make, name="pack_make"),
    path("packs/<id:pk>/", views.pack_detail, name="pack_detail"),
    path("packs/<id:pk>/export/", views.pack_export, name="pack_export"),
    path("packs/<id:pk>/pdf/", views.pack_pdf, name="pack_pdf"),
]
