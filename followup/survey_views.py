# PLACEHOLDER while the module is being written: every view answers 404.
from django.http import Http404


def survey(request, *args, **kwargs):
    raise Http404


def visit_slip(request, *args, **kwargs):
    raise Http404


def weekly(request, *args, **kwargs):
    raise Http404


def weekly_export(request, *args, **kwargs):
    raise Http404


def response_list(request, *args, **kwargs):
    raise Http404
