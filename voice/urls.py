from django.urls import path

from . import views

app_name = "voice"

urlpatterns = [
    path("cti/events/", views.cti_events, name="cti_events"),
    path("presence/", views.presence, name="presence"),
    path("pop/", views.pop, name="pop"),
    path("wallboard/", views.wallboard, name="wallboard"),
]
