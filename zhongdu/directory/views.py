from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from zhongdu.private_query import search_by_post, search_params

from .selectors import QUERY_MAX_LENGTH, knowledge_desk_search


@search_by_post("q")
@require_GET
def knowledge_desk(request):
    query = search_params(request).get("q", "").strip()[:QUERY_MAX_LENGTH]
    context = {"query": query, "results": knowledge_desk_search(query=query)}
    # htmx asks for the whole page when it restores a history entry it has not cached.
    fragment = request.htmx and not request.htmx.history_restore_request
    template = "zhongdu/_desk_results.html" if fragment else "zhongdu/knowledge_desk.html"
    response = render(request, template, context)
    # One URL answers with a page or a fragment: caches must keep the two apart.
    patch_vary_headers(response, ["HX-Request"])
    return response
