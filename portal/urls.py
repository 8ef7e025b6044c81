from django.urls import path

from . import views

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
]
