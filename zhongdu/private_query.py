"""A full phone or ID number never travels in an address (URL): addresses end up in access logs,
browser histories and the Referer of the next page.

Search forms post (`{% include "zhongdu/_search_post.html" %}` inside the form, or `post_search`
on a crispy helper). `@search_by_post(*fields)` on the view trades that post for an address: the
typed values as they are when none of `fields` holds a full number (names and last-4 searches
stay readable, bookmarkable GET addresses), else a short-lived opaque token (`?t=`) standing for
them, kept in the session. A live search (htmx) posts too and gets its results at once, with the
address the browser should show in `HX-Replace-Url` when the search is its page's own. An old
address that still carries a full number is served, but the view sees it traded for a token, so
no link the page builds from `request.GET` repeats it. Views read what was asked with
`search_params(request)`.
"""

import re
import secrets
import time
from functools import wraps
from urllib.parse import urlsplit

from crispy_forms.layout import Hidden
from django.http import QueryDict
from django.shortcuts import redirect

TOKEN = "t"  # noqa: S105 (the query parameter's name, not a secret)
MARKER = "_search"  # the hidden field that says "this post is a search, not a change"
SESSION_KEY = "private_queries"
LIFETIME_SECONDS = 30 * 60  # long enough to work through a caller's matches, short for a leak
KEEP = 20  # tokens per session; the oldest go first

# Seven digits or more, however separated: a phone number (a landline without its area code has
# seven) or an ID card number. Last-4 searches, ages and years stay below it. This is the rule's
# one home: the live searches' script (static/js/app.js) reads the threshold from the page, where
# base.html renders it on <body data-full-number-digits> ({% full_number_digits %}).
FULL_NUMBER_DIGITS = 7
FULL_NUMBER = re.compile(rf"\d(?:[\s\-()./]*\d){{{FULL_NUMBER_DIGITS - 1},}}")
_NOT_SEARCH_TERMS = {MARKER, TOKEN, "csrfmiddlewaretoken"}


def holds_full_number(value: str) -> bool:
    return bool(value) and FULL_NUMBER.search(value) is not None


def _stash(request, values: dict[str, list[str]]) -> str:
    now = int(time.time())
    store = {
        token: entry
        for token, entry in request.session.get(SESSION_KEY, {}).items()
        if now - entry["at"] < LIFETIME_SECONDS
    }
    # The same search again (a live search typing on, the board refreshing, the page's own links)
    # keeps its token; while it has most of its life left the session is not written at all (a
    # session write was three of a search page's queries).
    token = next((t for t, entry in store.items() if entry["values"] == values), None)
    if token is not None and now - store[token]["at"] < LIFETIME_SECONDS // 2:
        return token
    token = token or secrets.token_urlsafe(9)
    store[token] = {"at": now, "values": values}
    newest = sorted(store.items(), key=lambda item: item[1]["at"])[-KEEP:]
    request.session[SESSION_KEY] = dict(newest)
    return token


def _unstash(request, token: str) -> dict[str, list[str]]:
    entry = request.session.get(SESSION_KEY, {}).get(token)
    if entry is None or int(time.time()) - entry["at"] >= LIFETIME_SECONDS:
        return {}  # expired or never issued: an empty search, as if nothing had been typed
    return entry["values"]


def safe_params(request, params, *, private) -> QueryDict:
    """`params` fit for an address: the `private` ones that hold a full number traded for a
    token (a token already there is dropped: these values replace what it stood for)."""
    safe = QueryDict(mutable=True)
    hidden = {}
    for key, values in params.lists():
        if key in _NOT_SEARCH_TERMS:
            continue
        if key in private and any(holds_full_number(value) for value in values):
            hidden[key] = list(values)
        else:
            safe.setlist(key, list(values))
    if hidden:
        safe[TOKEN] = _stash(request, hidden)
    return safe


def address(request, path: str, params, *, private) -> str:
    """`path?params`, with no full number in it (see safe_params)."""
    if not isinstance(params, QueryDict):
        query = QueryDict(mutable=True)
        for key, value in params.items():
            if value not in (None, ""):
                query[key] = str(value)
        params = query
    query = safe_params(request, params, private=private).urlencode()
    return f"{path}?{query}" if query else path


def search_params(request) -> QueryDict:
    """What the page was asked: `request.GET` with its token, if any, resolved."""
    params = request.GET.copy()
    token = params.pop(TOKEN, [""])[-1]
    for key, values in (_unstash(request, token) if token else {}).items():
        params.setlist(key, values)
    return params


def _is_live(request) -> bool:
    return bool(request.htmx)  # django-htmx's HtmxMiddleware


def search_by_post(*fields):
    """The view's search form posts `fields`; see the module's docstring. Other posts (the
    forms that change something on a search page) go to the view unchanged."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method == "POST" and MARKER in request.POST:
                params = safe_params(request, request.POST, private=fields)
                url = f"{request.path}?{params.urlencode()}" if params else request.path
                if not _is_live(request):
                    return redirect(url)
                request.method = "GET"
                request.GET = params
                request.POST = QueryDict()
                response = view(request, *args, **kwargs)
                if urlsplit(request.headers.get("HX-Current-URL", "")).path == request.path:
                    # On its own page: the address bar follows the search. (Embedded in another
                    # page, as the knowledge desk in the call screen, it leaves that page's.)
                    response["HX-Replace-Url"] = url
                return response
            if any(holds_full_number(value) for f in fields for value in request.GET.getlist(f)):
                # An old address with a full number: served, but no link repeats it.
                request.GET = safe_params(request, request.GET, private=fields)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def post_search(helper) -> None:
    """Make a crispy form helper's search form post, as search_by_post expects."""
    helper.form_method = "post"
    helper.disable_csrf = False
    helper.layout.append(Hidden(MARKER, "1"))
