"""The installable package and the production image carry every app of the project."""

import re
import tomllib
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def _project_packages():
    """Top-level folders of ours that Python imports: the apps and the config package."""
    return {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in {"tests", "scripts"}
    }


def test_the_package_list_in_pyproject_names_every_app():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    assert {pattern.rstrip("*") for pattern in include} == _project_packages()


def test_the_dockerfile_copies_every_app_before_installing_it():
    dockerfile = (ROOT / "Dockerfile").read_text()
    before_install = dockerfile.split("RUN pip install .", 1)[0]
    copied = set(re.findall(r"^COPY (\w+) \./\1$", before_install, flags=re.M))
    assert copied == _project_packages()


def test_the_known_first_party_imports_name_every_app():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    known = set(pyproject["tool"]["ruff"]["lint"]["isort"]["known-first-party"])
    assert _project_packages() <= known
