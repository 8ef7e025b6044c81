"""Live pages by short polling: the one mechanism for pages that must follow changes within a few
seconds (the waiting-room display, the calling station; later live pages reuse it).

The page renders its live part with the version of what it shows. The part asks again every few
seconds with htmx (`hx-trigger="every Ns"`, the project's vendored htmx: no script of our own),
sending `?since=<version>`. The view answers with ONE indexed query for the current version:
unchanged, an empty 204 (htmx swaps nothing on a 204); changed, the part rendered anew with its
new version, which the next poll sends. A version is an opaque string the page's owner makes (a
counter row raised by every write, with the day in it), so nothing has to be compared but text.

    version = live.version(day, counter_value)
    if live.unchanged(request, version):
        return live.no_change()
    ... render the part with {"live": live.attrs(url, version)} ...
"""

import datetime
from dataclasses import dataclass

from django.http import HttpResponse
from django.utils.http import urlencode

# How often a live part asks, in seconds: "within a few seconds" at one cheap query a screen.
POLL_SECONDS = 3
SINCE = "since"


def version(day: datetime.date, counter: int | None) -> str:
    """A version for a counter that starts again each day: 20261207.14."""
    return f"{day:%Y%m%d}.{counter or 0}"


def unchanged(request, current: str) -> bool:
    """Whether the poll's `since` is the current version (the page already shows it)."""
    return request.GET.get(SINCE) == current


def no_change() -> HttpResponse:
    """The empty answer to a poll that has nothing new: htmx leaves the page as it is."""
    response = HttpResponse(status=204)
    response["Cache-Control"] = "no-store"
    return response


@dataclass(frozen=True)
class LivePart:
    """What a live part's element needs: where it polls (with its version) and how often."""

    url: str
    version: str
    every: int = POLL_SECONDS

    @property
    def poll_url(self) -> str:
        separator = "&" if "?" in self.url else "?"
        return f"{self.url}{separator}{urlencode({SINCE: self.version})}"


def attrs(url: str, current: str, *, every: int = POLL_SECONDS) -> LivePart:
    """The live part for a template: `{% include "zhongdu/_live_attrs.html" with live=... %}`
    writes its htmx attributes on the element that is replaced."""
    return LivePart(url=url, version=current, every=every)
