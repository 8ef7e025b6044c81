# PLACEHOLDER while the module is being written.
from django.http import Http404


def today(request, *args, **kwargs):
    raise Http404


walk_in = check_in = visit_detail = visit_triage = visit_status = charge_add = today
triage_doctors = triage_suggest = today
