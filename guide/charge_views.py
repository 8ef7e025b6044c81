# PLACEHOLDER while the module is being written: every view answers 404.
from django.http import Http404


def charge_void(request, *args, **kwargs):
    raise Http404


def charge_import_upload(request, *args, **kwargs):
    raise Http404


def charge_import_detail(request, *args, **kwargs):
    raise Http404


def charge_import_confirm(request, *args, **kwargs):
    raise Http404
