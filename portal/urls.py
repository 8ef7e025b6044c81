from django.urls import path

from . import consult_views, views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("login/code/", views.login_code, name="login_code"),
    path("logout/", views.logout, name="logout"),
    path("switch/", views.switch, name="switch"),
    # --- Bookings (/my/bookings/) ---
    # --- Online consultation (/my/consult/) ---
    path("consult/", consult_views.consult_list, name="consult_list"),
    path("consult/new/", consult_views.consult_new, name="consult_new"),
    path("consult/<str:token>/", consult_views.consult_thread, name="consult_thread"),
    path("consult/<str:token>/photos/<int:pk>/", consult_views.consult_photo, name="consult_photo"),
    # --- Results (/my/results/) ---
    # --- My data (/my/data/) ---
]
