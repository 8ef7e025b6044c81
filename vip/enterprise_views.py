# PLACEHOLDER while the module is being written: every view answers 404.
from django.http import Http404


def enterprise_list(request, *args, **kwargs):
    raise Http404


def enterprise_new(request, *args, **kwargs):
    raise Http404


def enterprise_detail(request, *args, **kwargs):
    raise Http404


def enterprise_edit(request, *args, **kwargs):
    raise Http404


def enterprise_member_add(request, *args, **kwargs):
    raise Http404


def enterprise_member_remove(request, *args, **kwargs):
    raise Http404


def enterprise_import(request, *args, **kwargs):
    raise Http404
