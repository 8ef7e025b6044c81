from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language
from two_factor import views as two_factor_views

from consult import views as consult_views
from surveys import views as survey_views
from zhongdu import signin, views
from zhongdu.directory import views as directory_views

two_factor_urls = [
    path("", signin.ProfileView.as_view(), name="profile"),
    path("setup/", signin.SetupView.as_view(), name="setup"),
    path("qrcode/", two_factor_views.QRGeneratorView.as_view(), name="qr"),
    path("setup/complete/", two_factor_views.SetupCompleteView.as_view(), name="setup_complete"),
    path("backup/tokens/", two_factor_views.BackupTokensView.as_view(), name="backup_tokens"),
    path("disable/", signin.DisableView.as_view(), name="disable"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    # The public booking request, at the short address the hospital prints on its leaflets.
    path("book/", consult_views.public_book, name="book"),
    # The patient's own side (网上医院): sign-in by SMS code, bookings, consultation, results.
    path("my/", include("portal.urls")),
    # The satisfaction survey behind the QR code on the visit slip: short, public, single-use.
    path("s/<str:token>/", survey_views.survey, name="survey"),
    path("audit/", views.audit_event_list, name="audit_event_list"),
    path("desk/", directory_views.knowledge_desk, name="knowledge_desk"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    # The two-factor sign-in wizard (password, then a code where the user has a device).
    path("accounts/login/", signin.LoginView.as_view(), name="login"),
    # Enrolment, backup codes and turning it off: the library's pages, in its namespace (its
    # views and templates reverse "two_factor:*"), without its own second sign-in address.
    path("accounts/two_factor/", include((two_factor_urls, "two_factor"))),
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
    # My data's staff pages (portal): people's requests about their information, dependants.
    path("clients/", include("portal.data_request_urls")),
    path("", include("clientmgmt.urls")),
    path("", include("complaints.urls")),
    path("", include("referrals.urls")),
    path("messaging/", include("messaging.urls")),
    # The online consultation's staff side (portal.online_urls), before consult/'s patterns.
    path("consult/online/", include("portal.online_urls")),
    path("consult/", include("consult.urls")),
    path("guide/exams/", include("exams.urls")),
    path("guide/", include("guide.urls")),
    path("followup/surveys/", include("surveys.urls")),
    path("followup/", include("followup.urls")),
    path("", include("events.urls")),
    # An enterprise's exam rounds and team report (exams, above vip: vip cannot route to it).
    path("vip/enterprises/", include("exams.team_urls")),
    path("vip/", include("vip.urls")),
    path("voice/", include("voice.urls")),
    path("reports/", include("reports.urls")),
]
