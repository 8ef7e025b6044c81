# PLACEHOLDER while the module is being written: every view answers 404.
from django.http import Http404


def call_list(request, *args, **kwargs):
    raise Http404


def call_new(request, *args, **kwargs):
    raise Http404


def call_detail(request, *args, **kwargs):
    raise Http404


def call_record(request, *args, **kwargs):
    raise Http404


def call_claim(request, *args, **kwargs):
    raise Http404


def call_reassign(request, *args, **kwargs):
    raise Http404
