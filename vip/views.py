# PLACEHOLDER while the module is being written: every view answers 404.
from django.http import Http404


def roster(request, *args, **kwargs):
    raise Http404


def candidate_list(request, *args, **kwargs):
    raise Http404


def candidate_decide(request, *args, **kwargs):
    raise Http404


def nominate(request, *args, **kwargs):
    raise Http404


def policy_history(request, *args, **kwargs):
    raise Http404


def vip_detail(request, *args, **kwargs):
    raise Http404


def vip_costs(request, *args, **kwargs):
    raise Http404


def vip_costs_export(request, *args, **kwargs):
    raise Http404


def vip_access(request, *args, **kwargs):
    raise Http404


def vip_escort(request, *args, **kwargs):
    raise Http404


def vip_revoke(request, *args, **kwargs):
    raise Http404
