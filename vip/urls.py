# Every URL added here must be declared in zhongdu/roles.py PAGE_ACCESS as "vip:<name>".
from django.urls import path

from . import enterprise_views, views

app_name = "vip"
urlpatterns = [
    path("", views.roster, name="roster"),
    path("candidates/", views.candidate_list, name="candidate_list"),
    path("candidates/<id:pk>/decide/", views.candidate_decide, name="candidate_decide"),
    path("nominate/", views.nominate, name="nominate"),
    path("policy/", views.policy_history, name="policy_history"),
    path("<id:client_id>/", views.vip_detail, name="vip_detail"),
    path("<id:client_id>/costs/", views.vip_costs, name="vip_costs"),
    path("<id:client_id>/costs/export/", views.vip_costs_export, name="vip_costs_export"),
    path("<id:client_id>/access/", views.vip_access, name="vip_access"),
    path("<id:client_id>/escort/", views.vip_escort, name="vip_escort"),
    path("<id:client_id>/revoke/", views.vip_revoke, name="vip_revoke"),
    path("enterprises/", enterprise_views.enterprise_list, name="enterprise_list"),
    path("enterprises/new/", enterprise_views.enterprise_new, name="enterprise_new"),
    path("enterprises/<id:pk>/", enterprise_views.enterprise_detail, name="enterprise_detail"),
    path("enterprises/<id:pk>/edit/", enterprise_views.enterprise_edit, name="enterprise_edit"),
    path(
        "enterprises/<id:pk>/members/",
        enterprise_views.enterprise_member_add,
        name="enterprise_member_add",
    ),
    path(
        "enterprises/<id:pk>/members/<id:member_pk>/remove/",
        enterprise_views.enterprise_member_remove,
        name="enterprise_member_remove",
    ),
    path(
        "enterprises/<id:pk>/import/",
        enterprise_views.enterprise_import,
        name="enterprise_import",
    ),
]
