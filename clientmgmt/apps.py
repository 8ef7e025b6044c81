from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientmgmtConfig(AppConfig):
    name = "clientmgmt"
    verbose_name = _("Client management")
