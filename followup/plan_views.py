# PLACEHOLDER while the module is being written: every view answers 404.
from django.http import Http404


def plan_new(request, *args, **kwargs):
    raise Http404


def plan_detail(request, *args, **kwargs):
    raise Http404


def plan_edit(request, *args, **kwargs):
    raise Http404


def plan_cancel(request, *args, **kwargs):
    raise Http404
