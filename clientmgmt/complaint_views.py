# PLACEHOLDER while the module is being written: every view answers 404.
from django.http import Http404


def complaint_list(request, *args, **kwargs):
    raise Http404


def complaint_new(request, *args, **kwargs):
    raise Http404


def complaint_detail(request, *args, **kwargs):
    raise Http404


def complaint_status(request, *args, **kwargs):
    raise Http404


def complaint_assign(request, *args, **kwargs):
    raise Http404


def complaint_figures(request, *args, **kwargs):
    raise Http404
