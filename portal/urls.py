from django.urls import path

from . import booking_views, consult_views, data_views, results_views, views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("login/code/", views.login_code, name="login_code"),
    path("logout/", views.logout, name="logout"),
    path("switch/", views.switch, name="switch"),
    # --- Bookings (/my/bookings/) ---
    path("bookings/", booking_views.booking_list, name="bookings"),
    path("bookings/new/", booking_views.booking_new, name="booking_new"),
    path("bookings/<id:pk>/", booking_views.booking_detail, name="booking"),
    path("bookings/<id:pk>/cancel/", booking_views.booking_cancel, name="booking_cancel"),
    path(
        "bookings/<id:pk>/reschedule/",
        booking_views.booking_reschedule,
        name="booking_reschedule",
    ),
    # --- Online consultation (/my/consult/) ---
    path("consult/", consult_views.consult_list, name="consult_list"),
    path("consult/new/", consult_views.consult_new, name="consult_new"),
    path("consult/<str:token>/", consult_views.consult_thread, name="consult_thread"),
    path("consult/<str:token>/photos/<int:pk>/", consult_views.consult_photo, name="consult_photo"),
    # --- Results (/my/results/) ---
    path("results/", results_views.results_list, name="results"),
    path("results/<int:pk>/", results_views.result_detail, name="result_detail"),
    path("results/<int:pk>/report.pdf", results_views.result_report, name="result_report"),
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
