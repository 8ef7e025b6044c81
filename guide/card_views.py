# PLACEHOLDER while the module is being written: every view answers 404.
from django.http import Http404


def card_list(request, *args, **kwargs):
    raise Http404


def card_new(request, *args, **kwargs):
    raise Http404


def card_detail(request, *args, **kwargs):
    raise Http404


def card_renew(request, *args, **kwargs):
    raise Http404


def card_status(request, *args, **kwargs):
    raise Http404
