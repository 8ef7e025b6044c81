"""The authentication backend: Django's ModelBackend, with a user's permissions read in one
query, not two (its own and their role groups'), once per request (cached on the user object as
ModelBackend caches them). Pages that check `perms.*` or `has_perm` pay that one query."""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission


class RoleModelBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            columns = ("content_type__app_label", "codename")
            if user_obj.is_superuser:
                rows = Permission.objects.values_list(*columns).order_by()
            else:
                # The user's own and their groups' in one statement (UNION), each by its index.
                own = Permission.objects.filter(user=user_obj).values_list(*columns).order_by()
                grouped = Permission.objects.filter(group__user=user_obj).values_list(*columns)
                rows = own.union(grouped.order_by())
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}
        return user_obj._perm_cache
