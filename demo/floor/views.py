"""The floor's one page: the product's client search, rendered as plain rows."""

from functools import cache

from django.http import HttpResponse, HttpResponseForbidden, HttpResponseNotFound
from django.template import engines

from clientmgmt.search import parse_query
from clientmgmt.selectors import client_search

# No names or numbers: the floor is a yardstick, not a way round the product's access rules.
ROWS = (
    "<!doctype html><title>floor</title><table>{% for client in clients %}"
    "<tr><td>{{ client.pk }}</td><td>{{ client.status }}</td><td>{{ client.last_visit_at }}</td>"
    "</tr>{% endfor %}</table>"
)


@cache
def _template():
    # Compiled once; rendered without a request, so no context processor runs.
    return engines["django"].from_string(ROWS)


def search(request):
    if not request.user.is_authenticated:
        return HttpResponseForbidden()
    clients = client_search(parse_query(request.GET.get("q", "")))
    return HttpResponse(_template().render({"clients": clients}))


def not_found(request, exception):
    return HttpResponseNotFound()
