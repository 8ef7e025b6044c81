"""The consultation desk's side of the online consultation, at /consult/online/ (included in
config/urls.py before consult/)."""

from django.urls import path

from . import online_views as views

app_name = "online"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/", views.thread, name="thread"),
    path("<int:pk>/answer/", views.answer, name="answer"),
    path("<int:pk>/take/", views.take, name="take"),
    path("<int:pk>/assign/", views.assign, name="assign"),
    path("<int:pk>/close/", views.close, name="close"),
    path("<int:pk>/book/", views.book, name="book"),
    path("<int:pk>/photos/<int:photo_pk>/", views.photo, name="photo"),
]
