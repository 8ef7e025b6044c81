import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

from zhongdu import roles

pytestmark = pytest.mark.django_db


def _nav_urls(response):
    return [section["url_name"] for section in response.context["nav_sections"]]


def test_the_front_desk_sees_only_what_it_may_open(front_desk_client):
    response = front_desk_client.get(reverse("home"))
    assert response.status_code == 200
    assert _nav_urls(response) == [
        "home",
        "clientmgmt:client_list",
        "guide:today",
        "guide:card_list",
        "guide:exam_list",
        "guide:daily",
        "consult:queue",
        "consult:booking_list",
        "complaints:complaint_list",
        "events:event_list",
        "knowledge_desk",
    ]
    assert reverse("audit_event_list") not in response.content.decode()


def test_a_manager_sees_the_audit_trail_but_not_the_admin(manager_client):
    response = manager_client.get(reverse("home"))
    assert _nav_urls(response) == [
        "home",
        "clientmgmt:client_list",
        "guide:today",
        "guide:card_list",
        "guide:exam_list",
        "guide:daily",
        "consult:queue",
        "voice:callbacks",
        "consult:booking_list",
        "voice:wallboard",
        "consult:stats",
        "clientmgmt:archive_list",
        "followup:call_list",
        "complaints:complaint_list",
        "exams:alerts",
        "referrals:referral_list",
        "events:event_list",
        "surveys:weekly",
        "surveys:response_list",
        "surveys:round_list",
        "vip:roster",
        "vip:candidate_list",
        "vip:enterprise_list",
        "reports:dashboard",
        "knowledge_desk",
        "messaging:outbox_list",
        "audit_event_list",
    ]


def test_an_administrator_sees_the_admin(admin_client_):
    response = admin_client_.get(reverse("home"))
    assert _nav_urls(response) == [
        "home",
        "clientmgmt:client_list",
        "guide:today",
        "guide:card_list",
        "guide:exam_list",
        "exams:results_worklist",
        "guide:calling",
        "guide:display_list",
        "guide:daily",
        "consult:queue",
        "online:inbox",
        "voice:callbacks",
        "consult:booking_list",
        "voice:wallboard",
        "consult:stats",
        "clientmgmt:archive_list",
        "followup:call_list",
        "complaints:complaint_list",
        "exams:alerts",
        "referrals:referral_list",
        "events:event_list",
        "surveys:weekly",
        "surveys:response_list",
        "surveys:round_list",
        "vip:roster",
        "vip:candidate_list",
        "vip:enterprise_list",
        "reports:dashboard",
        "knowledge_desk",
        "messaging:outbox_list",
        "audit_event_list",
        "admin:index",
    ]
    assert admin_client_.get(reverse("admin:index")).status_code == 200


def test_a_clinician_sees_the_calling_station(clinician_client):
    response = clinician_client.get(reverse("home"))
    assert _nav_urls(response) == [
        "home",
        "clientmgmt:client_list",
        "exams:results_worklist",
        "guide:calling",
        "exams:alerts",
        "knowledge_desk",
    ]


def test_a_user_without_a_role_is_told_so(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("newcomer", password=None))
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en")
    assert "no role yet" in response.content.decode()
    assert client.get(reverse("audit_event_list")).status_code == 403


def test_the_workbench_names_the_users_roles(client_for):
    response = client_for(roles.CONSULTANT).get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Consultant" in response.content.decode()


def test_a_missing_page_shows_the_friendly_404(front_desk_client):
    response = front_desk_client.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Page not found" in body
    assert "Traceback" not in body and "urlpatterns" not in body


# Django's technical 404 page (DEBUG on) says why it is shown.
TECHNICAL_404 = "DEBUG = True"


def _product_404(response, words="页面不存在"):
    body = response.content.decode()
    return response.status_code == 404 and words in body and TECHNICAL_404 not in body


def test_an_unknown_address_shows_the_product_404_while_debugging(front_desk_client, settings):
    settings.DEBUG = True  # `make run`: pytest-django runs with DEBUG off
    assert _product_404(front_desk_client.get("/no/such/page/"))
    assert _product_404(
        front_desk_client.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE="en"), "Page not found"
    )
    assert _product_404(Client().get("/no/such/page/"))  # not signed in


def test_a_missing_record_shows_the_product_404_while_debugging(front_desk_client, settings):
    settings.DEBUG = True
    url = reverse("clientmgmt:client_detail", args=[987654])
    assert _product_404(front_desk_client.get(url))


def test_an_address_missing_its_slash_is_still_redirected_while_debugging(client, settings):
    settings.DEBUG = True
    response = client.get("/healthz")
    assert response.status_code == 301 and response["Location"] == "/healthz/"


def test_a_developer_may_ask_for_the_technical_404(front_desk_client, settings):
    settings.DEBUG = True
    settings.DEBUG_TECHNICAL_404 = True
    response = front_desk_client.get("/no/such/page/")
    assert response.status_code == 404
    assert TECHNICAL_404 in response.content.decode()
    assert "urlpatterns" in response.content.decode() or "URLconf" in response.content.decode()
    missing = front_desk_client.get(reverse("clientmgmt:client_detail", args=[987654]))
    assert missing.status_code == 404 and TECHNICAL_404 in missing.content.decode()


def test_a_refused_page_shows_the_friendly_403(front_desk_client):
    response = front_desk_client.get(reverse("audit_event_list"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert "Your role does not include this page" in response.content.decode()


def test_the_500_page_stands_alone_and_leaks_nothing():
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    body = response.content.decode()
    assert "系统出错了" in body and "Something went wrong" in body
    assert "Traceback" not in body


def test_pages_link_the_vendored_assets_and_the_print_stylesheet(front_desk_client):
    body = front_desk_client.get(reverse("home")).content.decode()
    assert "/static/vendor/bootstrap/bootstrap.min.css" in body
    assert "/static/vendor/htmx/htmx.min.js" in body
    assert 'href="/static/css/print.css" media="print"' in body
    assert '<meta name="viewport"' in body


def test_the_vendored_assets_are_served(client):
    for path in (
        "/static/vendor/bootstrap/bootstrap.min.css",
        "/static/vendor/bootstrap/bootstrap.bundle.min.js",
        "/static/vendor/htmx/htmx.min.js",
        "/static/js/app.js",
    ):
        response = client.get(path)
        assert response.status_code == 200, path


def test_the_navigation_folds_each_departments_pages_into_one_menu(front_desk_client):
    response = front_desk_client.get(reverse("guide:today"), HTTP_ACCEPT_LANGUAGE="en")
    menu = response.context["nav_menu"]
    labels = [str(item["label"]) for item in menu]
    assert labels == [
        "Workbench",
        "Clients",
        "Front desk",
        "Consultation",
        "Client management",
        "Knowledge desk",
    ]
    front_desk = menu[2]
    assert front_desk["active"] and not menu[3]["active"]
    assert [child["url_name"] for child in front_desk["children"]] == [
        "guide:today",
        "guide:card_list",
        "guide:exam_list",
        "guide:daily",
    ]
    assert [child["active"] for child in front_desk["children"]] == [True, False, False, False]


def test_the_navigation_follows_a_change_of_roles_at_once(front_desk_client):
    """The sections are worked out once per set of roles, not once per user: a role given or
    taken shows on the next page."""
    from django.contrib.auth.models import Group

    response = front_desk_client.get(reverse("home"))
    user, before = response.wsgi_request.user, _nav_urls(response)
    assert "messaging:outbox_list" not in before
    group = Group.objects.get(name=roles.CLIENT_MANAGER)
    user.groups.add(group)
    with_role = _nav_urls(front_desk_client.get(reverse("clientmgmt:client_list")))
    assert "messaging:outbox_list" in with_role and set(before) < set(with_role)
    user.groups.remove(group)
    assert _nav_urls(front_desk_client.get(reverse("home"))) == before


def test_the_kept_navigation_is_per_page_and_language(front_desk_client):
    """The bar is rendered once per set of roles, page and language: each page lights its own
    section, and each language has its own words."""
    home = front_desk_client.get(reverse("home")).content.decode()
    clients = front_desk_client.get(reverse("clientmgmt:client_list")).content.decode()
    current = 'aria-current="page" href="{}"'
    assert current.format(reverse("home")) in home
    assert current.format(reverse("clientmgmt:client_list")) in clients
    assert current.format(reverse("home")) not in clients
    english = front_desk_client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ">Clients</a>" in english and ">Clients</a>" not in home
    assert ">客户</a>" in home
