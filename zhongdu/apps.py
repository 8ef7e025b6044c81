from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, using, **kwargs):
    from .roles import sync_group_permissions

    sync_group_permissions()


class ZhongduConfig(AppConfig):
    name = "zhongdu"
    verbose_name = _("Hospital and system")

    def ready(self):
        from django.urls import register_converter

        from . import receivers  # noqa: F401  (connects the sign-in audit receivers)
        from .converters import IdConverter

        # Before any URLconf is read: every app's urls.py writes row ids as <id:pk>.
        register_converter(IdConverter, "id")

        # After every migrate, so permissions of models added later reach the role groups.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="zhongdu_sync_roles")
