import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse

ROOT = Path(settings.BASE_DIR)
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
COMPILED = CATALOGUE.with_suffix(".mo")


def test_every_msgid_in_the_catalogue_has_a_chinese_translation():
    po = polib.pofile(str(CATALOGUE))
    untranslated = [entry.msgid for entry in po if not entry.translated()]
    assert untranslated == []
    assert po.obsolete_entries() == []


def test_the_compiled_catalogue_matches_the_source():
    def entries(catalogue):
        return {
            (entry.msgctxt, entry.msgid): entry.msgstr or entry.msgstr_plural.get(0)
            for entry in catalogue
            if entry.msgid
        }

    po = entries(polib.pofile(str(CATALOGUE)))
    mo = entries(polib.mofile(str(COMPILED)))
    assert mo == po, "run `make messages` and commit locale/"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext (CI installs it)")
def test_every_translatable_string_in_the_code_is_in_the_catalogue(tmp_path):
    # Extract msgids from a copy of the code, so the committed catalogue is left untouched.
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(".venv", "var", ".git", "node_modules", "static", "tests"),
    )
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete"],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    extracted = {
        (e.msgctxt, e.msgid) for e in polib.pofile(str(copy / CATALOGUE.relative_to(ROOT)))
    }
    known = {(e.msgctxt, e.msgid) for e in polib.pofile(str(CATALOGUE)) if e.translated()}
    assert sorted(extracted - known - {(None, "")}, key=str) == []


@pytest.mark.django_db
def test_the_interface_speaks_chinese_by_default(client):
    body = client.get(reverse("login")).content.decode()
    assert '<html lang="zh-hans">' in body
    assert "仅限客服中心工作人员使用" in body
    assert "用户名" in body  # Django's own form labels come from Django's zh_Hans catalogue


@pytest.mark.django_db
def test_an_english_browser_gets_english(client):
    body = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="en">' in body
    assert "Customer-service centre staff only" in body


@pytest.mark.django_db
def test_the_switcher_changes_the_language_and_returns_to_the_page(front_desk_client):
    response = front_desk_client.post(
        reverse("set_language"), {"language": "en", "next": reverse("home")}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert "Workbench" in front_desk_client.get(reverse("home")).content.decode()
    front_desk_client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert "工作台" in front_desk_client.get(reverse("home")).content.decode()
