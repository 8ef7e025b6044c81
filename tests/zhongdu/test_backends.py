"""The authentication backend reads a user's permissions (their own and their role groups') in
one query, once per request, and grants exactly what Django's ModelBackend grants."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission

from zhongdu import roles
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


def test_one_query_per_request_however_many_checks(role_user, django_assert_num_queries):
    user = get_user_model().objects.get(pk=role_user(roles.CLIENT_MANAGER).pk)
    with django_assert_num_queries(1):
        for _ in range(5):
            user.has_perm("clientmgmt.export_client")
            user.has_perm("clientmgmt.merge_client")


def test_inactive_users_have_none_and_superusers_all(role_user):
    user = role_user(roles.CLIENT_MANAGER)
    user.is_active = False
    assert RoleModelBackend().get_all_permissions(user) == set()
    boss = get_user_model().objects.create_superuser("boss", password="x-2026-long-pass")
    assert len(RoleModelBackend().get_all_permissions(boss)) == Permission.objects.count()
