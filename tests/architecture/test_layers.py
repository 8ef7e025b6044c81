"""The layering of docs/architecture.md, checked on the source: every module's imports (read
with ast, including imports inside functions) reach only its own app and lower layers."""

import ast
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)

# Lowest first; an app may import apps of a strictly lower number (docs/architecture.md).
LAYERS = {
    "zhongdu": 0,
    "clientmgmt": 1,
    "referrals": 1.2,
    "messaging": 1.5,
    "complaints": 1.7,  # escalations go to the managers through messaging's outbox
    "consult": 2,
    "guide": 2.5,
    "surveys": 2.7,
    "followup": 3,
    "events": 3,
    "vip": 3.5,  # reads follow-up (a VIP's return-visit cadence)
    # after the exam: results on exam orders, plans through follow-up, team reports of VIP
    # enterprises; below voice, whose call button reaches its worklists
    "exams": 3.6,
    "voice": 3.7,  # the hotline: what a consultant sees on the phone reads every desk
    # The patient's own pages read bookings, results, plans and consents, and the desk's inbox
    # of online consultations turns a thread into a booking
    "portal": 3.8,
    "reports": 4,
    "demo": 5,
    "config": 6,
}


def _modules(app):
    for path in sorted((ROOT / app).rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def _imported_apps(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in LAYERS:
                yield node.lineno, top


def test_every_app_of_the_project_has_a_layer():
    apps = {
        path.parent.name
        for path in ROOT.glob("*/apps.py")
        if path.parent.name in {name.split(".")[0] for name in settings.INSTALLED_APPS}
    }
    assert apps <= set(LAYERS), apps - set(LAYERS)
    assert (ROOT / "config" / "settings.py").exists()


@pytest.mark.parametrize("app", sorted(LAYERS))
def test_no_module_imports_a_higher_layer(app):
    upward = [
        f"{path.relative_to(ROOT)}:{line} imports {other}"
        for path in _modules(app)
        for line, other in _imported_apps(path)
        if other != app and LAYERS[other] >= LAYERS[app]
    ]
    assert upward == []


def test_the_walk_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from reports import figures\n    import vip.models\n")
    assert list(_imported_apps(module)) == [(2, "reports"), (3, "vip")]
