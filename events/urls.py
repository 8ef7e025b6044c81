# Every URL added here must be declared in zhongdu/roles.py PAGE_ACCESS as "events:<name>".
from django.urls import path

from . import views

app_name = "events"
# Mounted at the site's root (config/urls.py), at the addresses the follow-up issue gave them.
urlpatterns = [
    path("followup/events/", views.event_list, name="event_list"),
    path("followup/events/new/", views.event_new, name="event_new"),
    path("followup/events/<id:pk>/", views.event_detail, name="event_detail"),
    path("followup/events/<id:pk>/edit/", views.event_edit, name="event_edit"),
    path("followup/events/<id:pk>/invite/", views.event_invite, name="event_invite"),
    path("followup/events/<id:pk>/door/", views.event_door, name="event_door"),
    path("followup/events/<id:pk>/attend/", views.event_attend, name="event_attend"),
    path("followup/events/<id:pk>/register/", views.event_register, name="event_register"),
    path("followup/events/invitations/<id:pk>/rsvp/", views.event_rsvp, name="event_rsvp"),
]
