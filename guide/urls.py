# Every URL added here must be declared in zhongdu/roles.py PAGE_ACCESS as "guide:<name>".
from django.urls import path
from django.views.generic import RedirectView

from . import calling_views, card_views, charge_views, daily_views, exam_views, views

app_name = "guide"
urlpatterns = [
    # The front desk's front door is today's board.
    path("", RedirectView.as_view(pattern_name="guide:today"), name="index"),
    path("today/", views.today, name="today"),
    path("walk-in/", views.walk_in, name="walk_in"),
    path("bookings/<id:pk>/check-in/", views.check_in, name="check_in"),
    path("visits/<id:pk>/", views.visit_detail, name="visit_detail"),
    path("visits/<id:pk>/triage/", views.visit_triage, name="visit_triage"),
    path("visits/<id:pk>/status/", views.visit_status, name="visit_status"),
    path("visits/<id:pk>/charges/", views.charge_add, name="charge_add"),
    path("triage/doctors/", views.triage_doctors, name="triage_doctors"),
    path("triage/suggest/", views.triage_suggest, name="triage_suggest"),
    path("charges/<id:pk>/void/", charge_views.charge_void, name="charge_void"),
    path("charges/import/", charge_views.charge_import_upload, name="charge_import_upload"),
    path(
        "charges/import/<uuid:token>/",
        charge_views.charge_import_detail,
        name="charge_import_detail",
    ),
    path(
        "charges/import/<uuid:token>/confirm/",
        charge_views.charge_import_confirm,
        name="charge_import_confirm",
    ),
    path("cards/", card_views.card_list, name="card_list"),
    path("cards/new/", card_views.card_new, name="card_new"),
    path("cards/<id:pk>/", card_views.card_detail, name="card_detail"),
    path("cards/<id:pk>/renew/", card_views.card_renew, name="card_renew"),
    path("cards/<id:pk>/status/", card_views.card_status, name="card_status"),
    path("exams/", exam_views.exam_list, name="exam_list"),
    path("exams/new/", exam_views.exam_new, name="exam_new"),
    path("exams/<id:pk>/", exam_views.exam_detail, name="exam_detail"),
    path("exams/items/<id:pk>/done/", exam_views.exam_item_done, name="exam_item_done"),
    path("exams/<id:pk>/complete/", exam_views.exam_complete, name="exam_complete"),
    path("exams/<id:pk>/cancel/", exam_views.exam_cancel, name="exam_cancel"),
    # Calling (叫号): the clinicians' station, one URL per action, and the waiting-room display.
    path("calling/", calling_views.calling, name="calling"),
    *(
        path(
            f"calling/tickets/<id:pk>/{action}/",
            calling_views.ticket_act,
            {"action": action},
            name=f"ticket_{action}",
        )
        for action in ("call", "recall", "skip", "done")
    ),
    path("display/<str:token>/", calling_views.display, name="display"),
    path("displays/", calling_views.display_list, name="display_list"),
    path("displays/<id:pk>/revoke/", calling_views.display_revoke, name="display_revoke"),
    path("daily/", daily_views.daily, name="daily"),
    path("daily/export/", daily_views.daily_export, name="daily_export"),
]
