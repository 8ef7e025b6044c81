# Every URL added here must be declared in zhongdu/roles.py PAGE_ACCESS as "referrals:<name>".
from django.urls import path

from . import views

app_name = "referrals"
# Mounted at the site's root (config/urls.py), under the client-management department's
# addresses, where its issue put them.
urlpatterns = [
    path("clientmgmt/referrals/", views.referral_list, name="referral_list"),
    path("clientmgmt/referrals/new/", views.referral_new, name="referral_new"),
    path("clientmgmt/referrals/<id:pk>/status/", views.referral_status, name="referral_status"),
]
