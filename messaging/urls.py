# Every URL added here must be declared in zhongdu/roles.py PAGE_ACCESS as "messaging:<name>".
from django.urls import path

from . import views, webhooks

app_name = "messaging"
urlpatterns = [
    path("", views.outbox_list, name="outbox_list"),
    path("attention/", views.outbox_attention, name="outbox_attention"),
    path("figures/", views.outbox_figures, name="outbox_figures"),
    path("<id:pk>/", views.message_detail, name="message_detail"),
    path("<id:pk>/retry/", views.message_retry, name="message_retry"),
    path("<id:pk>/mark-sent/", views.message_mark_sent, name="message_mark_sent"),
    path("<id:pk>/release/", views.message_release, name="message_release"),
    path("campaigns/", views.campaign_list, name="campaign_list"),
    path("campaigns/new/", views.campaign_create, name="campaign_create"),
    path("campaigns/<id:pk>/", views.campaign_detail, name="campaign_detail"),
    path("twilio/status/<uuid:token>/", webhooks.twilio_status, name="twilio_status"),
    path("twilio/inbound/", webhooks.twilio_inbound, name="twilio_inbound"),
    path("aliyun/report/<str:secret>/", webhooks.aliyun_report, name="aliyun_report"),
    path("aliyun/up/<str:secret>/", webhooks.aliyun_up, name="aliyun_up"),
]
