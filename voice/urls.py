from django.urls import path

from . import views, webhooks

app_name = "voice"

urlpatterns = [
    path("cti/events/", views.cti_events, name="cti_events"),
    path("presence/", views.presence, name="presence"),
    path("pop/", views.pop, name="pop"),
    path("callbacks/", views.callbacks, name="callbacks"),
    path("calls/<id:pk>/", views.call_detail, name="call_detail"),
    path("recordings/<id:pk>/listen/", views.recording_listen, name="recording_listen"),
    path("recordings/<id:pk>/audio/", views.recording_audio, name="recording_audio"),
    path("wallboard/", views.wallboard, name="wallboard"),
    path("aliyun/receipt/<str:secret>/", webhooks.aliyun_receipt, name="aliyun_receipt"),
]
