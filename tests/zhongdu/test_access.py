"""Walks every URL pattern of the project, for every role and for an anonymous visitor, and
compares what happens with zhongdu.roles.PAGE_ACCESS. A page missing from the table fails here."""

import re
import uuid

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.exceptions import NoReverseMatch

from zhongdu import roles
from zhongdu.models import AuditEvent

# Values tried for each URL argument until reverse() accepts one: they point at nothing, so a
# permitted page answers 404 (or its own answer) and a refused one 403.
CANDIDATE_VALUES = ["999999", "x", str(uuid.UUID(int=0)), "auth", "2026-01-01"]


def _walk(patterns, namespace="", prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from _walk(entry.url_patterns, full_ns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield name, namespace, prefix + str(entry.pattern), entry


def _kwargs_names(pattern: URLPattern):
    return list(pattern.pattern.regex.groupindex)


def _url_for(name, pattern):
    names = _kwargs_names(pattern)
    if not names:
        return reverse(name)
    candidates = CANDIDATE_VALUES + [config.label for config in apps.get_app_configs()]
    for value in candidates:
        try:
            return reverse(name, kwargs=dict.fromkeys(names, value))
        except NoReverseMatch:
            continue
    raise AssertionError(f"no test value fits the arguments of {name}")


def all_patterns():
    return list(_walk(get_resolver().url_patterns))


def named_urls():
    seen = {}
    for name, _ns, _route, pattern in all_patterns():
        if name and name not in seen:
            seen[name] = _url_for(name, pattern)
    return sorted(seen.items())


def test_every_url_pattern_is_declared_in_the_access_table():
    undeclared = []
    for name, namespace, route, _pattern in all_patterns():
        if name is None:
            # An unnamed pattern can only be covered by its namespace's wildcard.
            if not (namespace and f"{namespace}:*" in roles.PAGE_ACCESS):
                undeclared.append(route)
        elif roles.access_rule(name) is None:
            undeclared.append(name)
    assert undeclared == []


def test_the_access_table_declares_no_page_that_does_not_exist():
    names = {name for name, *_ in all_patterns() if name}
    namespaces = {ns for _n, ns, *_ in all_patterns() if ns}
    stale = [
        key
        for key in roles.PAGE_ACCESS
        if not (key.endswith(":*") and key[:-2] in namespaces) and key not in names
    ]
    assert stale == []


URLS = named_urls()
ROLES = sorted(roles.ALL_ROLES)


def _is_login_redirect(response):
    return response.status_code == 302 and response["Location"].startswith(reverse("login"))


def _is_portal_login_redirect(response):
    return response.status_code == 302 and response["Location"].startswith(reverse("portal:login"))


@pytest.mark.django_db
@pytest.mark.parametrize("name,url", URLS, ids=[name for name, _ in URLS])
def test_anonymous_visitor_is_sent_to_sign_in_except_on_public_pages(client, name, url):
    response = client.get(url)
    if roles.access_rule(name) == roles.PUBLIC:
        assert not _is_login_redirect(response)
        assert response.status_code != 403
    elif roles.access_rule(name) == roles.PATIENT:
        # The patient's pages send to the portal's own sign-in, never to the staff one.
        assert _is_portal_login_redirect(response), f"{name} answered {response.status_code}"
    else:
        assert _is_login_redirect(response), f"{name} answered {response.status_code}"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_exactly_the_pages_the_table_gives_it(client_for, role):
    client = client_for(role)
    mismatches = []
    for name, url in URLS:
        rule = roles.access_rule(name)
        if rule == roles.PATIENT:
            # A staff user is no patient: sent to the portal's sign-in, never let in.
            if not _is_portal_login_redirect(client.get(url)):
                mismatches.append(f"{name}: a staff user was not sent to the portal's sign-in")
            continue
        allowed = rule in (roles.PUBLIC, roles.SIGNED_IN) or role in rule
        denied_before = AuditEvent.objects.filter(action=AuditEvent.Action.DENIED).count()
        response = client.get(url)
        denied = AuditEvent.objects.filter(action=AuditEvent.Action.DENIED).count() > denied_before
        if allowed:
            # The Django admin applies model permissions of its own (some of its pages, such as
            # adding an axes access attempt, are refused to everybody); elsewhere an allowed page
            # must not answer 403 at all.
            admin_page = name.startswith("admin:")
            if denied or (response.status_code == 403 and not admin_page):
                mismatches.append(f"{name}: refused ({response.status_code})")
            if _is_login_redirect(response):
                mismatches.append(f"{name}: sent to sign in")
        elif response.status_code != 403 or not denied:
            mismatches.append(f"{name}: let in ({response.status_code})")
    assert mismatches == []


def test_the_walk_covers_the_admin_and_every_department_namespace():
    names = [name for name, _ in URLS]
    assert any(name.startswith("admin:") for name in names)
    assert "audit_event_list" in names
    assert all(re.match(r"^[\w:]+$", name) for name in names)
