from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from zhongdu.private_query import search_by_post, search_params

from .selectors import QUERY_MAX_LENGTH, knowledge_desk_search


def _wants_fragment(request) -> bool:
    # htmx asks for the whole page when it restores a history entry it has not cached.
    return request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )


@search_by_post("q")
@require_GET
def knowledge_desk(request):
    query = search_params(request).get("q", "").strip()[:QUERY_MAX_LENGTH]
    context = {"query": query, "results": knowledge_desk_search(query=query)}
    template = (
        "zhongdu/_desk_results.html" if _wants_fragment(request) else "zhongdu/knowledge_desk.html"
    )
    response = render(request, template, context)
    # One URL answers with a page or a fragment: caches must keep the two apart.
    patch_vary_headers(response, ["HX-Request"])
    return response
