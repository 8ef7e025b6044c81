from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, using, **kwargs):
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    from .roles import sync_group_permissions

    # post_migrate runs app by app and zhongdu is among the first: without this, a first migrate
    # gave the roles none of the permissions of the apps after it (managers without reports).
    # create_permissions is idempotent, and Django calls it for each app afterwards anyway.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    sync_group_permissions()


class ZhongduConfig(AppConfig):
    name = "zhongdu"
    verbose_name = _("Hospital and system")
    # The audit trail's words for what is not a model (zhongdu.audit.object_types): a refused
    # page is recorded with its URL name.
    audit_object_types = {"url": _("Page")}

    def ready(self):
        from django.core.checks import register
        from django.urls import register_converter

        from . import receivers  # noqa: F401  (connects the sign-in audit receivers)
        from .checks import (
            check_aliyun_push,
            check_critical_escalation_phones,
            check_sms_routes,
            check_two_factor_roles,
        )
        from .converters import IdConverter

        # Before any URLconf is read: every app's urls.py writes row ids as <id:pk>.
        register_converter(IdConverter, "id")
        register(check_two_factor_roles)
        register(check_sms_routes)
        register(check_aliyun_push)
        # Deployment only (manage.py check --deploy).
        register(check_critical_escalation_phones, deploy=True)

        # After every migrate, so permissions of models added later reach the role groups.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="zhongdu_sync_roles")
