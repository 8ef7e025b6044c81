# PLACEHOLDER while the module is being written: every view answers 404.
from django.http import Http404


def daily(request, *args, **kwargs):
    raise Http404


def daily_export(request, *args, **kwargs):
    raise Http404
