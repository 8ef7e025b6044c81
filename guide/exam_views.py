# PLACEHOLDER while the module is being written: every view answers 404.
from django.http import Http404


def exam_list(request, *args, **kwargs):
    raise Http404


def exam_new(request, *args, **kwargs):
    raise Http404


def exam_detail(request, *args, **kwargs):
    raise Http404


def exam_item_done(request, *args, **kwargs):
    raise Http404


def exam_complete(request, *args, **kwargs):
    raise Http404


def exam_cancel(request, *args, **kwargs):
    raise Http404
