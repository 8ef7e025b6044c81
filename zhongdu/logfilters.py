"""Log filters (settings.LOGGING). Imported while settings are configured, so nothing here may
import models."""

import logging

from django.conf import settings

REDACTED = "<secret>"


class RedactSecrets(logging.Filter):
    """A secret that travels in an address never reaches a log line: the path segment of
    Alibaba Cloud's push URLs (ALIYUN_PUSH_SECRET), which Django's request log repeats for a
    refused push ("Bad Request: /messaging/aliyun/report/<secret>/")."""

    def filter(self, record):
        secret = getattr(settings, "ALIYUN_PUSH_SECRET", "")
        if secret:
            message = record.getMessage()
            if secret in message:
                record.msg, record.args = message.replace(secret, REDACTED), ()
        return True
