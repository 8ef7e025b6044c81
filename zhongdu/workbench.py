"""What the apps above put on the staff's pages without the common layer knowing them.

- Workbench panels (the home page, above its sections: the hotline's presence): an app
  registers `panel(request) -> (template, context) | None`; the home page includes each panel's
  template with `panel=context`.
- Page parts (every staff page, above its content: the call pop): `part(request) -> (template,
  context) | None`; base.html includes each with `part=context`, only when it renders the page.

Either returns None for a user it has nothing for, and should cost no query to say so (it is
asked on every page)."""

from collections.abc import Callable

_panels: list[Callable] = []


def register_workbench_panel(panel: Callable) -> None:
    if panel not in _panels:
        _panels.append(panel)


def workbench_panels(request) -> list[tuple[str, object]]:
    return [shown for shown in (panel(request) for panel in _panels) if shown is not None]


_parts: list[Callable] = []


def register_page_part(part: Callable) -> None:
    if part not in _parts:
        _parts.append(part)


def page_parts(request) -> list[tuple[str, object]]:
    return [shown for shown in (part(request) for part in _parts) if shown is not None]
