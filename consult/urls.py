# Every URL added here must be declared in zhongdu/roles.py PAGE_ACCESS as "consult:<name>".
from django.urls import path
from django.views.generic import RedirectView

from . import stats_views, views

app_name = "consult"
urlpatterns = [
    # The consultation desk's front door is the consultant's queue.
    path("", RedirectView.as_view(pattern_name="consult:queue"), name="index"),
    path("call/", views.call, name="call"),
    path("queue/", views.queue, name="queue"),
    # Public, no login. The lead aliases it at the top level as /book/ (config/urls.py).
    path("book/", views.public_book, name="public_book"),
    path("book/thanks/", views.public_book_thanks, name="public_book_thanks"),
    path("bookings/", views.booking_list, name="booking_list"),
    path("bookings/new/", views.booking_new, name="booking_new"),
    path("bookings/<id:pk>/", views.booking_detail, name="booking_detail"),
    path("bookings/<id:pk>/reschedule/", views.booking_reschedule, name="booking_reschedule"),
    path("bookings/<id:pk>/cancel/", views.booking_cancel, name="booking_cancel"),
    path("bookings/<id:pk>/slip/", views.booking_slip, name="booking_slip"),
    path("recalls/<id:pk>/", views.recall_detail, name="recall_detail"),
    path("recalls/<id:pk>/attempt/", views.recall_attempt, name="recall_attempt"),
    path("recalls/<id:pk>/close/", views.recall_close, name="recall_close"),
    path("stats/", stats_views.consult_stats, name="stats"),
    path("stats/export/", stats_views.consult_stats_export, name="stats_export"),
]
