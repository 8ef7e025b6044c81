import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "k3y-" + "x7Qp9LmZ2vR8tW4yB6nD1cF5hJ0sG3aE" * 2,
    "DJANGO_ALLOWED_HOSTS": "kefu.zhongdu.example",
    "FIELD_ENCRYPTION_KEYS": "Wm3vH0w4n7QKfXq5b1o8Yx2cLp6Tz9Rj3Ue0Sa4Dk1E=",
    "SEARCH_HASH_KEY": "d1f0c6a7b2e94f3e8a5c7b9d0e1f2a3b",
    "AUDIT_SEAL_KEYS": "5e0c2b7f9a1d4e6c8b3a5f7d9e1c2b4a6f8d0e2c4b6a8f1d3e5c7b9a0d2f4e6c",
    # The managers on escalation duty (a missed critical exam value at night: zhongdu.W002).
    "COMPLAINT_ESCALATION_PHONES": "+8613812345678",
}


def _manage(*args, **env_overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ZHONGDU_"))}
    env.update(env_overrides)
    return subprocess.run(  # noqa: S603  (our own manage.py, fixed arguments)
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_check_deploy_passes_with_production_variables():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_passes_behind_a_tls_proxy_with_the_redirect_off():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_PROXY_COUNT="1",
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_missing_secret_key_fails_loudly_in_production():
    env = dict(PRODUCTION, DJANGO_SECRET_KEY="")
    result = _manage("check", **env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_missing_encryption_keys_fail_loudly_in_production():
    result = _manage("check", **dict(PRODUCTION, FIELD_ENCRYPTION_KEYS=""))
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS and SEARCH_HASH_KEY must be set" in result.stderr


def test_twilio_without_credentials_fails_loudly():
    result = _manage("check", SMS_BACKEND="twilio")
    assert result.returncode != 0
    assert "TWILIO_ACCOUNT_SID" in result.stderr


def test_the_clock_is_the_hospitals():
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True


@pytest.mark.django_db
def test_a_client_cannot_claim_https_without_a_declared_proxy(client):
    assert settings.SECURE_PROXY_SSL_HEADER is None
    request = client.get("/healthz/", HTTP_X_FORWARDED_PROTO="https").wsgi_request
    assert not request.is_secure()


@pytest.mark.django_db
def test_every_page_carries_a_content_security_policy_without_inline_script(client):
    policy = client.get("/accounts/login/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def _templates():
    folders = [ROOT / "templates", *ROOT.glob("*/templates")]
    return [path for folder in folders for path in folder.rglob("*.html")]


def test_no_template_has_inline_script_style_or_event_handlers():
    offenders = []
    for path in _templates():
        text = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag:
                offenders.append(f"{path.name}: {tag}")
        if re.search(r"<style\b", text) or re.search(r"\sstyle=", text):
            offenders.append(f"{path.name}: inline style")
        if re.search(r"\son[a-z]+=", text):
            offenders.append(f"{path.name}: inline event handler")
    assert offenders == []


def test_pages_link_no_outside_host():
    for path in _templates():
        assert not re.search(r"(src|href)=\"https?://", path.read_text()), path.name


def test_the_embedded_broker_keeps_all_its_folders_under_var():
    env = {k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, json; django.setup(); from django.conf import settings; "
            "print(json.dumps(settings.CELERY_BROKER_TRANSPORT_OPTIONS))",
        ],
        cwd=ROOT,
        env=env | {"DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    import json

    options = json.loads(result.stdout)
    folders = [options[key] for key in ("control_folder", "data_folder_in", "processed_folder")]
    assert all(folder.startswith(str(ROOT / "var" / "broker")) for folder in folders), folders
