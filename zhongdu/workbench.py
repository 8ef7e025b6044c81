"""What the apps above put on the staff's pages without the common layer knowing them.

- Workbench panels (the home page, above its sections: the hotline's presence): an app
  registers `panel(request) -> (template, context) | None`; the home page includes each panel's
  template with `panel=context`.
- Page parts (every staff page, above its content: the call pop): `part(request) -> (template,
  context) | None`; base.html includes each with `part=context`, only when it renders the page.
- Record parts (a record's own page, below its details: a complaint's or a callback's calls and
  voicemail): an app registers `part(request, record) -> (template, context) | None` for a
  model; the page shows them with `{% record_parts record as parts %}` (zhongdu_tags).
- The call button (拨打) on every row and page of a worklist (return-visit calls, recalls and
  callbacks, online booking requests, complaints, the client page): a page writes
  `{% dial_button "followup" call.pk %}` (zhongdu_tags) and the app that places calls registers
  `renderer(request, worklist, task_id) -> html | ""`. The page never learns the number: the
  button names the task, and the app that places the call reads the number from it.

Either returns None for a user it has nothing for, and should cost no query to say so (it is
asked on every page; the call button on every row of a list)."""

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


_record_parts: dict[str, list[Callable]] = {}


def register_record_part(model_label: str, part: Callable) -> None:
    """`model_label` as Django names it ("complaints.complaint")."""
    parts = _record_parts.setdefault(model_label.lower(), [])
    if part not in parts:
        parts.append(part)


def record_parts(request, record) -> list[tuple[str, object]]:
    parts = _record_parts.get(record._meta.label_lower, [])
    return [shown for shown in (part(request, record) for part in parts) if shown is not None]


_dial_buttons: list[Callable] = []


def register_dial_button(renderer: Callable) -> None:
    if renderer not in _dial_buttons:
        _dial_buttons.append(renderer)


def dial_button(request, worklist: str, task_id) -> str:
    """The call button for the task `task_id` of `worklist`, as HTML (safe), or "" when no app
    places calls or this user makes none."""
    if request is None or task_id in (None, ""):
        return ""
    for renderer in _dial_buttons:
        if html := renderer(request, worklist, task_id):
            return html
    return ""
