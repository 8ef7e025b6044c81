"""docker-compose.yml gives the web, worker and beat containers every variable that
config/settings.py reads and production needs, under its own name, with the README's default."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from django.conf import settings

from tests.zhongdu.test_settings import PRODUCTION
from zhongdu import dbroles

ROOT = Path(settings.BASE_DIR)
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
APP_SERVICES = ["web", "worker", "beat"]

# Read by settings but deliberately not passed to the containers.
NOT_PASSED = {
    "DJANGO_STATIC_ROOT": "set in the Dockerfile: collectstatic writes there when it is built",
    "TWILIO_API_BASE_URL": "tests and benchmarks only: the local fake of Twilio's API",
    "ALIYUN_SMS_API_BASE_URL": "tests and benchmarks only: the local fake of Alibaba Cloud's",
    "ALIYUN_VMS_API_BASE_URL": "tests and benchmarks only: the local fake of its voice API",
    "CELERY_TASK_ALWAYS_EAGER": "tests only",
    "ZHONGDU_TESTING": "tests only",
    "DJANGO_DEBUG_TECHNICAL_404": "development only: it changes nothing without DJANGO_DEBUG",
}
# Set by the compose file itself, not taken from the operator's environment.
FIXED = {"DJANGO_DEBUG", "DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "PRIVATE_FILES_ROOT"}
# config/settings.py refuses to start without them when DJANGO_DEBUG is false.
REQUIRED = {"DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "SEARCH_HASH_KEY", "AUDIT_SEAL_KEYS"}
# Where the compose default differs from the README's on purpose: the compose file puts the
# application behind a TLS-terminating proxy (see its comments and README "Production").
BEHIND_THE_PROXY = {"DJANGO_SECURE_SSL_REDIRECT", "DJANGO_PROXY_COUNT"}

REFERENCE = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?::(?P<op>[-?])(?P<arg>[^}]*))?\}")


def _settings_variables() -> set[str]:
    """The names config/settings.py reads with env(...) / env.<cast>(...)."""
    tree = ast.parse((ROOT / "config" / "settings.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        is_env = (isinstance(func, ast.Name) and func.id == "env") or (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "env"
        )
        if is_env and isinstance(node.args[0], ast.Constant):
            names.add(node.args[0].value)
    return names


SETTINGS_VARIABLES = _settings_variables()


def _environment(service: str) -> dict[str, str]:
    return {name: str(value) for name, value in COMPOSE["services"][service]["environment"].items()}


def _readme_defaults() -> dict[str, str]:
    """name -> default, from the README's configuration table, where the row gives one plainly
    (`60`, `60` / `90`, empty); rows that describe their default in words are left out."""
    table = (ROOT / "README.md").read_text().split("## Configuration")[1].split("\n## ")[0]
    defaults = {}
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.split("|")[1:-1]]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        names = re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0])
        empty = cells[1] == "empty"
        values = [""] * len(names) if empty else re.findall(r"`([^`]*)`", cells[1])
        if len(values) == len(names):
            defaults.update(zip(names, values, strict=True))
    return defaults


def _interpolate(value: str, given: dict[str, str]) -> str:
    """What `docker compose` makes of a value: the given variable, else the default."""

    def one(match):
        name, op, arg = match["name"], match["op"], match["arg"]
        if name in given:
            return given[name]
        if op == "?":
            raise AssertionError(f"{name} is required: {arg}")
        return arg or ""

    return REFERENCE.sub(one, value)


def test_settings_are_read_as_this_test_expects():
    # The parser found the variables (a refactor of settings.py must not empty the checks).
    assert {"PUBLIC_BASE_URL", "DJANGO_SECRET_KEY", "SMS_QUIET_START_HOUR"} <= SETTINGS_VARIABLES
    assert set(NOT_PASSED) <= SETTINGS_VARIABLES, "an exception no longer read by settings.py"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_variable_settings_reads_for_production_is_passed(service):
    missing = SETTINGS_VARIABLES - set(NOT_PASSED) - set(_environment(service))
    assert missing == set(), f"{service} does not get {sorted(missing)}"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_nothing_is_passed_that_settings_does_not_read(service):
    assert set(_environment(service)) - SETTINGS_VARIABLES == set()


def test_the_operator_sets_each_variable_under_its_own_name():
    for name, value in _environment("web").items():
        if name in FIXED:
            continue
        match = REFERENCE.fullmatch(value)
        assert match and match["name"] == name and match["op"], f"{name}: {value}"


def test_the_secrets_the_application_cannot_start_without_are_required():
    environment = _environment("web")
    for name in REQUIRED:
        assert REFERENCE.fullmatch(environment[name])["op"] == "?", name
    optional = {n for n, v in environment.items() if n not in FIXED and ":?" not in v}
    assert "PUBLIC_BASE_URL" in optional  # the README's default; console SMS needs no webhooks


def test_the_defaults_are_the_readmes():
    readme = _readme_defaults()
    assert readme["PUBLIC_BASE_URL"] == "http://127.0.0.1:8000"
    checked = 0
    for name, value in _environment("web").items():
        match = REFERENCE.fullmatch(value)
        if name in FIXED | BEHIND_THE_PROXY or match["op"] != "-" or name not in readme:
            continue
        assert match["arg"] == readme[name], (
            f"{name}: compose {match['arg']!r}, README {readme[name]!r}"
        )
        checked += 1
    assert checked >= 15


def test_the_compose_environment_with_its_defaults_passes_the_deploy_check():
    given = {name: PRODUCTION[name] for name in REQUIRED} | {
        "DJANGO_ALLOWED_HOSTS": PRODUCTION["DJANGO_ALLOWED_HOSTS"],
        # Without the duty managers' numbers the deploy check warns (zhongdu.W002).
        "COMPLAINT_ESCALATION_PHONES": PRODUCTION["COMPLAINT_ESCALATION_PHONES"],
    }
    compose = {name: _interpolate(value, given) for name, value in _environment("web").items()}
    assert compose["PUBLIC_BASE_URL"] == "http://127.0.0.1:8000"
    assert compose["SMS_QUIET_START_HOUR"] == "21"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ZHONGDU_"))}
    env = {k: v for k, v in env.items() if k not in SETTINGS_VARIABLES} | compose
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- Database roles (zhongdu/dbroles.py): migrate as the owner, the application as a role that
# may only insert into and read the audit trail. The postgres service's environment is the one
# source of the two names; the init script reads them from it.

POSTGRES = COMPOSE["services"]["postgres"]["environment"]
OWNER, APP = POSTGRES["ZHONGDU_DB_OWNER"], POSTGRES["ZHONGDU_DB_APP"]
INITDB = "/docker-entrypoint-initdb.d/"


def _database_url(service: str):
    return urlsplit(_interpolate(_environment(service)["DATABASE_URL"], {}))


def _init_script() -> Path:
    mounts = [v.split(":") for v in COMPOSE["services"]["postgres"]["volumes"]]
    scripts = [source for source, target, *_ in mounts if target.startswith(INITDB)]
    assert len(scripts) == 1, mounts
    return ROOT / scripts[0]


def test_postgres_runs_the_role_script_from_the_repository_when_it_creates_the_database():
    script = _init_script()
    assert script.is_file()
    # The image runs an executable *.sh (and only sources one that is not).
    assert script.suffix == ".sh" and os.access(script, os.X_OK)
    mounts = COMPOSE["services"]["postgres"]["volumes"]
    assert any(m.startswith(f"./{script.relative_to(ROOT)}:{INITDB}") for m in mounts)


def test_the_owner_the_application_role_and_the_superuser_are_three_roles():
    assert len({OWNER, APP, POSTGRES["POSTGRES_USER"]}) == 3
    owner_password = REFERENCE.fullmatch(POSTGRES["ZHONGDU_DB_OWNER_PASSWORD"])
    app_password = REFERENCE.fullmatch(POSTGRES["ZHONGDU_DB_APP_PASSWORD"])
    assert owner_password["name"] != app_password["name"]
    assert owner_password["arg"] != app_password["arg"]


def test_migrate_connects_as_the_owner_and_grants_the_application_role_after_migrating():
    url = _database_url("migrate")
    assert (url.username, url.path) == (OWNER, f"/{POSTGRES['POSTGRES_DB']}")
    assert url.password == _interpolate(POSTGRES["ZHONGDU_DB_OWNER_PASSWORD"], {})
    shell, flag, command = COMPOSE["services"]["migrate"]["command"]
    assert (shell, flag) == ("sh", "-c")
    # Each step runs only if the one before succeeded: web, worker and beat wait for the end.
    steps = [step.strip() for step in command.split("&&")]
    grant = f"python manage.py db_grant_app_role {APP}"
    assert steps.index(grant) > steps.index("python manage.py migrate --noinput")
    # Everything else migrate gets is what the application gets.
    migrate = _environment("migrate")
    assert {k: v for k, v in migrate.items() if k != "DATABASE_URL"} == {
        k: v for k, v in _environment("web").items() if k != "DATABASE_URL"
    }


@pytest.mark.parametrize("service", APP_SERVICES)
def test_web_worker_and_beat_connect_as_the_application_role(service):
    url = _database_url(service)
    assert (url.username, url.path) == (APP, f"/{POSTGRES['POSTGRES_DB']}")
    assert url.username not in {OWNER, POSTGRES["POSTGRES_USER"]}
    assert url.password == _interpolate(POSTGRES["ZHONGDU_DB_APP_PASSWORD"], {})
    assert (url.hostname, url.port) == ("postgres", 5432)


def test_the_init_script_makes_both_roles_and_the_owners_default_privileges():
    script = _init_script().read_text()
    for variable in POSTGRES:
        if variable.startswith("ZHONGDU_DB_"):
            assert f'"${{{variable}:?' in script, f"the script does not require {variable}"
    assert '-v owner="$ZHONGDU_DB_OWNER"' in script
    assert '-v app="$ZHONGDU_DB_APP"' in script
    sql = " ".join(script.split("<<'SQL'", 1)[1].split())
    assert 'CREATE ROLE :"owner" LOGIN NOSUPERUSER' in sql
    assert 'CREATE ROLE :"app" LOGIN NOSUPERUSER' in sql
    assert 'ALTER DATABASE :"db" OWNER TO :"owner";' in sql
    default = (
        r'ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public'
        r' GRANT (.+?) ON (\w+) TO :"app";'
    )
    granted = {kind: set(privileges.split(", ")) for privileges, kind in re.findall(default, sql)}
    # The same privileges db_grant_app_role gives on the tables that exist; never TRUNCATE.
    assert granted == {
        "TABLES": set(dbroles.TABLE_PRIVILEGES),
        "SEQUENCES": set(dbroles.SEQUENCE_PRIVILEGES),
    }
    assert dbroles.SCHEMA == "public"


def test_the_health_check_waits_for_the_server_the_init_script_has_finished_with():
    # During the init scripts the image's server listens on its socket only.
    check = " ".join(COMPOSE["services"]["postgres"]["healthcheck"]["test"])
    assert "pg_isready -h 127.0.0.1" in check


def test_postgres_is_sized_for_the_server_the_file_documents_not_its_defaults():
    service = COMPOSE["services"]["postgres"]
    command = service["command"]
    settings = dict(
        value.split("=", 1)
        for flag, value in zip(command[1::2], command[2::2], strict=True)
        if flag == "-c"
    )
    assert command[0] == "postgres"
    assert settings == {
        "shared_buffers": "${POSTGRES_SHARED_BUFFERS:-2GB}",
        "effective_cache_size": "${POSTGRES_EFFECTIVE_CACHE_SIZE:-6GB}",
        "work_mem": "${POSTGRES_WORK_MEM:-16MB}",
        "maintenance_work_mem": "${POSTGRES_MAINTENANCE_WORK_MEM:-512MB}",
        "random_page_cost": "${POSTGRES_RANDOM_PAGE_COST:-1.1}",
    }
    # Shared memory above the buffers, and the README says how to size each for another machine.
    assert service["shm_size"] == "${POSTGRES_SHM_SIZE:-2560m}"
    readme = (ROOT / "README.md").read_text()
    for variable in (
        "POSTGRES_SHARED_BUFFERS",
        "POSTGRES_EFFECTIVE_CACHE_SIZE",
        "POSTGRES_WORK_MEM",
        "POSTGRES_MAINTENANCE_WORK_MEM",
        "POSTGRES_RANDOM_PAGE_COST",
        "POSTGRES_SHM_SIZE",
    ):
        assert f"`{variable}`" in readme
