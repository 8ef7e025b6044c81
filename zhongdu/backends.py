"""The authentication backend: Django's ModelBackend, with a user's permissions costing no query
of their own on a page.

A user's permissions are their groups' (their roles', zhongdu.roles.ROLE_PERMISSIONS) and their
own. The group names and the user's own permissions come with the roles every page reads anyway
(zhongdu.roles.user_memberships: one query per request); the permissions of a set of groups are
kept per process for GROUP_PERMISSIONS_SECONDS (they change when sync_group_permissions runs,
which forgets them at once in its process, or when an administrator edits a group in the admin:
then every process applies the change within that time). Cached on the user object for the
request, as ModelBackend caches them."""

import time
from functools import lru_cache

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission

from .roles import user_memberships

GROUP_PERMISSIONS_SECONDS = 60


class RoleModelBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                rows = Permission.objects.values_list("content_type__app_label", "codename")
                perms = {f"{app_label}.{codename}" for app_label, codename in rows.order_by()}
            else:
                groups, own = user_memberships(user_obj)
                perms = set(own) | group_permissions(groups)
            user_obj._perm_cache = perms
        return user_obj._perm_cache


def group_permissions(groups: frozenset[str]) -> frozenset[str]:
    """The permissions of these groups ("app_label.codename"), read once per set of groups per
    GROUP_PERMISSIONS_SECONDS in each process."""
    if not groups:
        return frozenset()
    return _group_permissions(groups, int(time.monotonic() // GROUP_PERMISSIONS_SECONDS))


@lru_cache(maxsize=64)
def _group_permissions(groups: frozenset[str], _period: int) -> frozenset[str]:
    rows = (
        Permission.objects.filter(group__name__in=groups)
        .values_list("content_type__app_label", "codename")
        .order_by()
        .distinct()
    )
    return frozenset(f"{app_label}.{codename}" for app_label, codename in rows)


def forget_group_permissions() -> None:
    """After the groups' permissions changed (sync_group_permissions): read them again."""
    _group_permissions.cache_clear()
