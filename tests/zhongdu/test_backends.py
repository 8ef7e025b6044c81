"""The authentication backend grants exactly what Django's ModelBackend grants, at no query of
its own on a page: the user's groups and own permissions come with the roles (one query per
request), the groups' permissions are kept per process for a minute at most."""

import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission

from zhongdu import backends, roles
from zhongdu.backends import RoleModelBackend

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", sorted(roles.ALL_ROLES))
def test_each_role_gets_exactly_what_the_model_backend_gives(role_user, role):
    user = role_user(role)
    ours = RoleModelBackend().get_all_permissions(user)
    theirs = ModelBackend().get_all_permissions(get_user_model().objects.get(pk=user.pk))
    assert ours == theirs and ours


def test_a_permission_given_to_the_user_alone_counts_too(role_user):
    user = role_user(roles.FRONT_DESK)
    extra = Permission.objects.get(codename="add_campaign")
    assert not user.has_perm("messaging.add_campaign")
    user.user_permissions.add(extra)
    user = get_user_model().objects.get(pk=user.pk)  # a new request's user
    assert user.has_perm("messaging.add_campaign")


def test_roles_and_permissions_cost_one_query_per_request(role_user, django_assert_num_queries):
    pk = role_user(roles.CLIENT_MANAGER).pk
    assert get_user_model().objects.get(pk=pk).has_perm("clientmgmt.export_client")
    user = get_user_model().objects.get(pk=pk)  # the next request's user
    with django_assert_num_queries(1):
        for _ in range(5):
            assert roles.user_roles(user) == {roles.CLIENT_MANAGER}
            assert user.has_perm("clientmgmt.export_client")
            assert not user.has_perm("auth.delete_user")


def _fresh(user):
    return get_user_model().objects.get(pk=user.pk)


def test_a_change_to_a_groups_permissions_applies_within_the_minute(role_user, monkeypatch):
    user = role_user(roles.FRONT_DESK)
    assert not _fresh(user).has_perm("messaging.add_campaign")
    group = Group.objects.get(name=roles.FRONT_DESK)
    group.permissions.add(Permission.objects.get(codename="add_campaign"))  # in the admin
    started = time.monotonic()
    monkeypatch.setattr(
        backends.time, "monotonic", lambda: started + backends.GROUP_PERMISSIONS_SECONDS
    )
    assert _fresh(user).has_perm("messaging.add_campaign")
    # Putting the roles' permissions back (as a deployment's migrate does) applies at once.
    roles.sync_group_permissions()
    assert not _fresh(user).has_perm("messaging.add_campaign")


def test_inactive_users_have_none_and_superusers_all(role_user):
    user = role_user(roles.CLIENT_MANAGER)
    user.is_active = False
    assert RoleModelBackend().get_all_permissions(user) == set()
    boss = get_user_model().objects.create_superuser("boss", password="x-2026-long-pass")
    assert len(RoleModelBackend().get_all_permissions(boss)) == Permission.objects.count()
