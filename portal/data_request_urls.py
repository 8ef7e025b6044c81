"""Staff pages of My data, under /clients/: people's requests to correct or delete their
information, and the client page's dependant authorisations (PAGE_ACCESS in zhongdu/roles.py)."""

from django.urls import path

from . import data_staff_views as views

app_name = "datarequests"

urlpatterns = [
    path("data-requests/", views.request_list, name="request_list"),
    path("data-requests/<uuid:token>/", views.request_detail, name="request_detail"),
    path("data-requests/<uuid:token>/decide/", views.request_decide, name="request_decide"),
    path("<int:pk>/portal-dependants/", views.dependant_add, name="dependant_add"),
    path(
        "<int:pk>/portal-dependants/<int:authorisation>/withdraw/",
        views.dependant_withdraw,
        name="dependant_withdraw",
    ),
]
