"""The default-escort hook (guide.registry): a higher layer (VIP) names who escorts a client
when the desk chose nobody, without guide importing it."""

import ast
from pathlib import Path

import pytest
from django.conf import settings

from guide import registry, services
from tests.clientmgmt.factories import ClientFactory
from tests.factories import UserFactory

from .factories import checked_in, walk_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def hooks(monkeypatch):
    """A clean list of hooks for the test (vip's own stays registered outside it)."""
    hooks = []
    monkeypatch.setattr(registry, "_default_escorts", hooks)
    return hooks


def test_a_walk_in_gets_the_escort_a_hook_names(hooks):
    escort = UserFactory(username="named_escort")
    person = ClientFactory()
    registry.register_default_escort(lambda client: escort if client.pk == person.pk else None)
    assert walk_in(client=person).escort == escort
    assert walk_in(client=ClientFactory(phone="+8613900000009")).escort is None


def test_a_check_in_gets_the_escort_a_hook_names(hooks):
    escort = UserFactory(username="named_escort")
    registry.register_default_escort(lambda client: escort)
    assert checked_in().escort == escort


def test_the_first_hook_with_an_answer_wins_and_one_is_registered_once(hooks):
    first, second = UserFactory(username="first"), UserFactory(username="second")

    def nobody(client):
        return None

    registry.register_default_escort(nobody)
    registry.register_default_escort(nobody)
    registry.register_default_escort(lambda client: first)
    registry.register_default_escort(lambda client: second)
    assert len(hooks) == 3
    assert registry.default_escort(ClientFactory()) == first


def test_an_escort_chosen_by_the_desk_is_kept(hooks):
    chosen, named = UserFactory(username="chosen"), UserFactory(username="named")
    registry.register_default_escort(lambda client: named)
    visit = services._create_visit(client=ClientFactory(), by=None, escort=chosen)
    assert visit.escort == chosen


def test_vip_registers_its_named_escort():
    from vip.selectors import named_escort

    assert named_escort in registry._default_escorts


def test_guide_imports_nothing_of_the_layers_above_it():
    above = {"vip", "followup", "reports"}
    offenders = []
    for path in (Path(settings.BASE_DIR) / "guide").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in above]
    assert offenders == []
