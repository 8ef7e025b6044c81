"""Shared fixtures: one signed-in client per role, plus an anonymous one."""

import pytest
from django.test import Client

from tests.factories import UserFactory
from zhongdu import roles

ROLE_USERNAMES = {
    roles.FRONT_DESK: "t_frontdesk",
    roles.CONSULTANT: "t_consultant",
    roles.CLIENT_MANAGER: "t_clientmgr",
    roles.VIP_MANAGER: "t_vipmgr",
    roles.MANAGER: "t_manager",
    roles.ADMINISTRATOR: "t_admin",
}


@pytest.fixture
def role_user(db):
    """role_user("front_desk") -> a user holding exactly that role."""

    def make(role):
        roles.sync_group_permissions()
        return UserFactory(
            username=ROLE_USERNAMES[role],
            roles=[role],
            is_staff=role == roles.ADMINISTRATOR,
        )

    return make


@pytest.fixture
def client_for(role_user):
    """client_for("consultant") -> a test client signed in as that role; None -> anonymous."""

    def make(role):
        client = Client()
        if role is not None:
            client.force_login(role_user(role))
        return client

    return make


@pytest.fixture
def front_desk_client(client_for):
    return client_for(roles.FRONT_DESK)


@pytest.fixture
def consultant_client(client_for):
    return client_for(roles.CONSULTANT)


@pytest.fixture
def client_manager_client(client_for):
    return client_for(roles.CLIENT_MANAGER)


@pytest.fixture
def vip_manager_client(client_for):
    return client_for(roles.VIP_MANAGER)


@pytest.fixture
def manager_client(client_for):
    return client_for(roles.MANAGER)


@pytest.fixture
def admin_client_(client_for):
    """The administrator role (pytest-django's own admin_client is a superuser, not a role)."""
    return client_for(roles.ADMINISTRATOR)
