from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from consult import views as consult_views
from surveys import views as survey_views
from zhongdu import views
from zhongdu.directory import views as directory_views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    # The public booking request, at the short address the hospital prints on its leaflets.
    path("book/", consult_views.public_book, name="book"),
    # The satisfaction survey behind the QR code on the visit slip: short, public, single-use.
    path("s/<str:token>/", survey_views.survey, name="survey"),
    path("audit/", views.audit_event_list, name="audit_event_list"),
    path("desk/", directory_views.knowledge_desk, name="knowledge_desk"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("", include("clientmgmt.urls")),
    path("", include("complaints.urls")),
    path("", include("referrals.urls")),
    path("messaging/", include("messaging.urls")),
    path("consult/", include("consult.urls")),
    path("guide/", include("guide.urls")),
    path("followup/surveys/", include("surveys.urls")),
    path("followup/", include("followup.urls")),
    path("", include("events.urls")),
    path("vip/", include("vip.urls")),
    path("reports/", include("reports.urls")),
]
