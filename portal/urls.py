from django.urls import path

from . import data_views, views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("login/code/", views.login_code, name="login_code"),
    path("logout/", views.logout, name="logout"),
    path("switch/", views.switch, name="switch"),
    # --- Bookings (/my/bookings/) ---
    # --- Online consultation (/my/consult/) ---
    # --- Results (/my/results/) ---
    # --- My data (/my/data/) ---
    path("data/", data_views.my_data, name="my_data"),
    path(
        "data/consents/<str:purpose>/withdraw/",
        data_views.consent_withdraw,
        name="consent_withdraw",
    ),
    path("data/copy.<str:fmt>", data_views.data_copy, name="data_copy"),
    path("data/requests/new/", data_views.data_request_new, name="data_request_new"),
]
