from django.http import HttpResponse
from django.views.decorators.http import require_GET


@require_GET
def knowledge_desk(request):
    return HttpResponse("knowledge desk: under construction")
