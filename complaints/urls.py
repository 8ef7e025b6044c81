# Every URL added here must be declared in zhongdu/roles.py PAGE_ACCESS as "complaints:<name>".
from django.urls import path

from . import views

app_name = "complaints"
# Mounted at the site's root (config/urls.py), under the client-management department's
# addresses, where its issue put them.
urlpatterns = [
    path("clientmgmt/complaints/", views.complaint_list, name="complaint_list"),
    path("clientmgmt/complaints/new/", views.complaint_new, name="complaint_new"),
    path("clientmgmt/complaints/<id:pk>/", views.complaint_detail, name="complaint_detail"),
    path("clientmgmt/complaints/<id:pk>/status/", views.complaint_status, name="complaint_status"),
    path("clientmgmt/complaints/<id:pk>/assign/", views.complaint_assign, name="complaint_assign"),
    path("clientmgmt/complaints/figures/", views.complaint_figures, name="complaint_figures"),
]
