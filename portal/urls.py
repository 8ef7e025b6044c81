from django.urls import path

from . import results_views, views

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
    path("results/", results_views.results_list, name="results"),
    path("results/<int:pk>/", results_views.result_detail, name="result_detail"),
    path("results/<int:pk>/report.pdf", results_views.result_report, name="result_report"),
    # --- My data (/my/data/) ---
]
