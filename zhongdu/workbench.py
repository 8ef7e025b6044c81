"""Panels the apps above put on the workbench (the home page), above its sections: the hotline's
presence, later the call pop. An app registers `panel(request) -> (template, context) | None` in
its AppConfig.ready(); the home page includes each panel's template with `panel=context`. A
panel that has nothing for this user returns None (and should cost no query to say so)."""

from collections.abc import Callable

_panels: list[Callable] = []


def register_workbench_panel(panel: Callable) -> None:
    if panel not in _panels:
        _panels.append(panel)


def workbench_panels(request) -> list[tuple[str, object]]:
    return [shown for shown in (panel(request) for panel in _panels) if shown is not None]
