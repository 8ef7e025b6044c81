"""Settings for the Zhongdu customer-service centre.

One module, everything read from the environment (django-environ). With no environment at all
the project runs for development: DEBUG on, SQLite under var/, an embedded file-system broker and
SMS printed to the console. Production is switched on by variables, never by another module:
see the configuration table in README.md.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.schedules import DEFAULT_SCHEDULES

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# With DEBUG on, an unknown address still gets the product's 404 page (the demo is shown to
# staff); a developer who wants Django's technical 404 page (the URL patterns tried) sets this.
DEBUG_TECHNICAL_404 = env.bool("DJANGO_DEBUG_TECHNICAL_404", default=False)
# Tests set this so that a developer's DJANGO_DEBUG does not change what the suite checks.
TESTING = env.bool("ZHONGDU_TESTING", default=False)

if DEBUG:
    SECRET_KEY = env.str(
        "DJANGO_SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production"
    )
else:
    # A production process without a key must not start with a guessable one.
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
    if not SECRET_KEY:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false.")

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "template_partials",
    "django_htmx",
    "axes",
    # Two-factor sign-in: django-otp's devices (authenticator apps, backup codes) and
    # django-two-factor-auth's sign-in wizard and enrolment pages. No phone or SMS methods.
    "django_otp",
    "django_otp.plugins.otp_static",
    "django_otp.plugins.otp_totp",
    "two_factor",
    "csp",
    "django_celery_beat",
    "import_export",
    # Project apps, lowest layer first (docs/architecture.md).
    "zhongdu",
    "clientmgmt",
    # complaints and referrals before messaging, out of layer order on purpose: apps register their
    # timeline sources in this order, which is the order of the client page's filter (surveys
    # after followup for the same reason: calls, plans, then satisfaction answers).
    "complaints",
    "referrals",
    "messaging",
    "consult",
    "guide",
    "followup",
    "exams",
    "surveys",
    "events",
    "vip",
    "voice",
    "portal",
    "reports",
    # Demo data and benchmarks, above every layer (seed_demo, bench_*).
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # request.htmx: whether htmx asked (for a fragment rather than the whole page).
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session entered a second-factor code (django_otp's
    # OTPMiddleware, its device look-up made at most once a minute).
    "zhongdu.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages: it tells the user why they were signed out.
    "zhongdu.middleware.SessionTimeoutMiddleware",
    # After the timeout (an expired session is signed out, not sent to enrol): the roles that
    # must use two-factor sign-in enrol before any page, and enter a code at every sign-in.
    "zhongdu.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Before the access check, whose refusals are audited with the request's data.
    "zhongdu.middleware.ControlCharacterMiddleware",
    # request.patient: who is signed in to the patient portal (/my/), from its own cookie.
    "portal.middleware.PatientSessionMiddleware",
    "zhongdu.middleware.RoleAccessMiddleware",
    "zhongdu.middleware.OutOfRangeMiddleware",
    # With DEBUG on, the product's 404 page rather than Django's technical one (unless
    # DEBUG_TECHNICAL_404): after CommonMiddleware, whose slash redirect answers some 404s.
    "zhongdu.middleware.NotFoundPageMiddleware",
    # Axes last, as its documentation asks: it turns lockouts into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "zhongdu.context_processors.navigation",
                "zhongdu.context_processors.hospital",
                "portal.navigation.portal_links",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'zhongdu.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    VAR_DIR.mkdir(exist_ok=True)  # the embedded default lives in var/, which git ignores
    # The tests' in-memory database is shared between the test and the browser tests' live
    # server in shared-cache mode, where a reader's table lock makes a writer fail at once
    # ("database table is locked", no busy timeout): readers take none. A file database (the
    # development default) is not in shared-cache mode, and this changes nothing there.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "init_command", "PRAGMA read_uncommitted = 1"
    )
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # Persistent connections: a new connection per request cost 2-3x (CONVENTIONS.md).
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
# What pages keep between requests (the notification badge's count). The default lives in each
# process, enough for one (development, tests); several web processes share Redis, so that what
# one forgets (a notification written or read) the others forget too: CACHE_URL=redis://…/1.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# --- Authentication -------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out username+IP before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, a user's permissions read in one query (zhongdu/backends.py).
    "zhongdu.backends.RoleModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "zhongdu.audit.client_ip"
# Reads the sign-in wizard's username field (auth-username) when axes has no credentials.
# AXES_USERNAME_FORM_FIELD stays "username": axes names the credentials' key after it, and
# authenticate() is called with username= whatever the form.
AXES_USERNAME_CALLABLE = "zhongdu.audit.axes_username"
# How many reverse proxies (that append to X-Forwarded-For) stand in front of the application.
DJANGO_PROXY_COUNT = env.int("DJANGO_PROXY_COUNT", default=0)

# Two-factor sign-in (django-two-factor-auth): these roles must enrol an authenticator app and
# enter its code at every sign-in; anyone else may enrol. Role names as in zhongdu/roles.py.
TWO_FACTOR_REQUIRED_ROLES = env.list(
    "TWO_FACTOR_REQUIRED_ROLES", default=["administrator", "manager", "vip_manager"]
)
# The password step is forgotten if the code does not follow within five minutes.
TWO_FACTOR_LOGIN_TIMEOUT = 300
# The admin's own sign-in page sends to the project's (zhongdu.admin.admin_login), not the
# library's patch, which sent administrators already signed in there too.
TWO_FACTOR_PATCH_ADMIN = False
# A page that needs a verified session (backup codes) sends an unverified one to the account's
# two-factor page, which offers to enrol; the sign-in page would send a signed-in user back.
OTP_LOGIN_URL = "two_factor:profile"
# Administrators may remove a lost phone's device in the admin, never read its secret.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Sessions: an idle timeout counted from the last request, and an absolute lifetime.
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT_MINUTES", default=30) * 60
SESSION_ABSOLUTE_LIFETIME = env.int("SESSION_ABSOLUTE_LIFETIME_HOURS", default=12) * 3600
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_LIFETIME
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=VAR_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# In development and tests whitenoise serves straight from the source folders.
WHITENOISE_USE_FINDERS = DEBUG or TESTING
WHITENOISE_AUTOREFRESH = DEBUG or TESTING

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Security -------------------------------------------------------------------------------
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# Behind a TLS-terminating proxy the redirect can be switched off; the proxy's header still tells
# Django the request was secure.
# Trusted only when a proxy is declared: a client talking to the application directly must not
# be able to claim HTTPS (or, through X-Forwarded-For, another address).
if env.int("DJANGO_PROXY_COUNT", default=0) > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Health probes come over plain HTTP from inside the deployment.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG and not SECURE_SSL_REDIRECT:
    # The operator says a proxy redirects to HTTPS; tell check --deploy that this is deliberate.
    SILENCED_SYSTEM_CHECKS = ["security.W008"]

# No inline scripts or styles anywhere: every script is a static file.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# --- Celery ---------------------------------------------------------------------------------
# With no broker configured the worker runs on kombu's file-system transport under var/, so
# `make run` needs no Redis. Tests use the in-memory transport (tests/conftest.py).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    # Every process that queues a task (web, shell, worker) needs the folders to exist.
    for _folder in ("out", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Without it kombu keeps its exchange table in ./control, wherever the process started.
        "control_folder": str(_broker_dir / "control"),
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    if TESTING and os.environ.get("PYTEST_XDIST_WORKER"):
        # `make test` runs the suite in several processes on one test broker: each keeps its
        # queues under its own prefix (a worker process a test starts inherits it), so no test
        # consumes, or purges, another process's tasks.
        CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = (
            f"{os.environ['PYTEST_XDIST_WORKER']}:"
        )
# Results are not needed: tasks record their effect in the database.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The default periodic jobs, installed into beat's tables by `manage.py install_schedules`
# (config/schedules.py; a setting, so the zhongdu app reads them without importing the project).
ZHONGDU_DEFAULT_SCHEDULES = DEFAULT_SCHEDULES

CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fixup closes the database connection after every task unless told to reuse
# it; a new Postgres connection per SMS cost more than sending the SMS. Recycled every 2x this
# many tasks (CONN_MAX_AGE and health checks still apply).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=500)

# --- SMS ------------------------------------------------------------------------------------
SMS_BACKEND = env.str("SMS_BACKEND", default="console")  # console | memory | twilio | aliyun
# Which provider serves mainland mobiles (cn) and every other number (other), e.g.
# "cn=aliyun,other=twilio". Empty: SMS_BACKEND serves what it may (zhongdu.sms.routes). A
# number no route serves is held in the outbox with that reason; mainland numbers go through
# Twilio only when an administrator enabled that cross-border route with its legal basis.
SMS_ROUTES = {
    key.strip(): value.strip()
    for key, _sep, value in (
        part.partition("=") for part in env.str("SMS_ROUTES", default="").split(",") if part.strip()
    )
}
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
# A messaging service, when set, is used instead of the from-number.
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
# Only for tests and the local fake of Twilio's API (tests/fake_twilio.py).
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="")
# Seconds to wait for Twilio before the outcome is unknown (zhongdu.sms; default 10).
TWILIO_TIMEOUT_SECONDS = env.float("TWILIO_TIMEOUT_SECONDS", default=10.0)
if SMS_BACKEND == "twilio" and not (
    TWILIO_ACCOUNT_SID
    and TWILIO_AUTH_TOKEN
    and (TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID)
):
    raise ImproperlyConfigured(
        "SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER"
        " (or TWILIO_MESSAGING_SERVICE_SID)."
    )
# Alibaba Cloud SMS, the domestic provider (zhongdu.sms.AliyunBackend): the AccessKey of a RAM
# user allowed to send SMS.
ALIYUN_ACCESS_KEY_ID = env.str("ALIYUN_ACCESS_KEY_ID", default="")
ALIYUN_ACCESS_KEY_SECRET = env.str("ALIYUN_ACCESS_KEY_SECRET", default="")
# The signature registered in its console, without the brackets; empty: the hospital profile's.
ALIYUN_SMS_SIGN_NAME = env.str("ALIYUN_SMS_SIGN_NAME", default="")
# The secret path segment of the two push addresses set in its console (delivery reports and
# replies, messaging.webhooks): its pushes carry no signature, so the address is the key. Long
# and random; empty refuses every push.
ALIYUN_PUSH_SECRET = env.str("ALIYUN_PUSH_SECRET", default="")
# Optional: the addresses (or networks) its pushes may come from; empty: any.
ALIYUN_PUSH_ALLOWED_IPS = env.list("ALIYUN_PUSH_ALLOWED_IPS", default=[])
# Only for tests and the local fake of its API (tests/fake_aliyun.py).
ALIYUN_SMS_API_BASE_URL = env.str("ALIYUN_SMS_API_BASE_URL", default="")
# Seconds to wait for it before the outcome is unknown (zhongdu.sms; default 10).
ALIYUN_TIMEOUT_SECONDS = env.float("ALIYUN_TIMEOUT_SECONDS", default=10.0)
# Seconds a message waits after the provider's per-number rate limit (isv.BUSINESS_LIMIT_CONTROL,
# lifted after a minute); a chaos run shortens it.
ALIYUN_LIMIT_RETRY_SECONDS = env.int("ALIYUN_LIMIT_RETRY_SECONDS", default=60)
if "aliyun" in {SMS_BACKEND, *SMS_ROUTES.values()} and not (
    ALIYUN_ACCESS_KEY_ID and ALIYUN_ACCESS_KEY_SECRET
):
    raise ImproperlyConfigured(
        "The aliyun SMS backend needs ALIYUN_ACCESS_KEY_ID and ALIYUN_ACCESS_KEY_SECRET."
    )
# A reply that is one of these words (after NFKC normalisation, trimming and case-folding: "ＴＤ",
# " td ") opts the number out of SMS, as the client's own button does (messaging.optout).
SMS_OPT_OUT_WORDS = env.list("SMS_OPT_OUT_WORDS", default=["T", "TD", "R", "N", "退订", "取消"])
# The address at which Twilio reaches this application: status callbacks are built on it, and
# webhook signatures are checked against it (Twilio signs the URL it called).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
# No SMS between these hours, hospital time (messages wait for the morning).
SMS_QUIET_START_HOUR = env.int("SMS_QUIET_START_HOUR", default=21)
SMS_QUIET_END_HOUR = env.int("SMS_QUIET_END_HOUR", default=8)
# At most this many marketing messages per client per day.
SMS_MARKETING_DAILY_CAP = env.int("SMS_MARKETING_DAILY_CAP", default=1)
# A claimed message whose worker has not reported back after this long is settled as unknown
# (longer than the send task's hard time limit, so a live worker is never overtaken).
SMS_CLAIM_TIMEOUT_SECONDS = env.int("SMS_CLAIM_TIMEOUT_SECONDS", default=120)
# A due message queued this long ago and still pending had its task lost: queue it again.
SMS_REQUEUE_AFTER_SECONDS = env.int("SMS_REQUEUE_AFTER_SECONDS", default=60)

# The hospital's profile made on first use (zhongdu.models.HospitalProfile; administrators keep
# it in the admin afterwards). Empty values are holes: a message naming one is held, not sent.
HOSPITAL_PROFILE_DEFAULTS = {
    "full_name": env.str("HOSPITAL_FULL_NAME", default=""),
    "display_name": env.str("HOSPITAL_DISPLAY_NAME", default=""),
    "address": env.str("HOSPITAL_ADDRESS", default=""),
    "hotline": env.str("HOSPITAL_HOTLINE", default=""),
    "opening_hours": env.str("HOSPITAL_OPENING_HOURS", default=""),
    "website": env.str("HOSPITAL_WEBSITE", default=""),
    "sms_signature": env.str("HOSPITAL_SMS_SIGNATURE", default=""),
    # What the public pages and the registration forms show before asking for consent
    # (clientmgmt.consent); its version is recorded with each consent.
    "privacy_notice": env.str("HOSPITAL_PRIVACY_NOTICE", default=""),
    "privacy_notice_version": env.str("HOSPITAL_PRIVACY_NOTICE_VERSION", default=""),
}

# --- Complaints -----------------------------------------------------------------------------
# A missed complaint deadline is always notified in the application to the managers; when this is
# true it is also sent by SMS (through the outbox) to each of COMPLAINT_ESCALATION_PHONES.
COMPLAINT_ESCALATION_SMS = env.bool("COMPLAINT_ESCALATION_SMS", default=False)
# Comma-separated mobile numbers (E.164, e.g. +8613812345678) of the managers on escalation duty.
COMPLAINT_ESCALATION_PHONES = env.list("COMPLAINT_ESCALATION_PHONES", default=[])

# --- After the exam (exams) ---------------------------------------------------------------------
# A critical exam value (危急值) must be answered by a call to the client within this many
# minutes of the release, counted in clock time (nights, weekends and holidays included); missed,
# it is escalated at once to the managers and the releasing clinician (and by SMS to
# COMPLAINT_ESCALATION_PHONES when EXAM_CRITICAL_ESCALATION_SMS is on).
EXAM_CRITICAL_MINUTES = env.int("EXAM_CRITICAL_MINUTES", default=60)
# A missed critical value is sent by SMS to COMPLAINT_ESCALATION_PHONES (the managers on duty)
# whatever COMPLAINT_ESCALATION_SMS says; false: in the application only.
EXAM_CRITICAL_ESCALATION_SMS = env.bool("EXAM_CRITICAL_ESCALATION_SMS", default=True)

# --- The patient portal (portal, /my/) --------------------------------------------------------
# A patient is signed out after this many minutes without a page, and in any case this many hours
# after signing in (their session is the portal's own, not a staff session).
PORTAL_IDLE_TIMEOUT_MINUTES = env.int("PORTAL_IDLE_TIMEOUT_MINUTES", default=20)
PORTAL_SESSION_LIFETIME_HOURS = env.int("PORTAL_SESSION_LIFETIME_HOURS", default=12)
# A sign-in code by SMS is good for this many minutes, once.
PORTAL_CODE_MINUTES = env.int("PORTAL_CODE_MINUTES", default=5)
# A patient books, moves or cancels a booking on the portal up to this many hours before the
# session starts; later, they call the hotline (the desk has the day's list printed by then).
PORTAL_CHANGE_CUTOFF_HOURS = env.int("PORTAL_CHANGE_CUTOFF_HOURS", default=2)
# The limits on sign-in codes (not settings an operator tunes: the security review's figures).
PORTAL_CODE_RESEND_SECONDS = 60  # a number asks again after a minute
PORTAL_CODES_PER_NUMBER = 5  # codes a number may ask for in an hour
PORTAL_CODES_PER_ADDRESS = 20  # codes one address may ask for in an hour, all numbers together
PORTAL_CODE_ATTEMPTS = 5  # wrong entries that kill a code
PORTAL_FAILURES_PER_NUMBER = 10  # wrong codes in an hour that lock a number for the hour
PORTAL_FAILURES_PER_ADDRESS = 30  # wrong codes in an hour that lock an address for the hour
# A person's request to correct or delete their personal information (PIPL) is to be decided
# within this many working days (the working calendar) of being asked.
DATA_REQUEST_WORKING_DAYS = env.int("DATA_REQUEST_WORKING_DAYS", default=15)
# The online consultation: the desk answers a new question within this many working hours (the
# working calendar); a photo the person attaches is at most this many bytes.
ONLINE_CONSULT_ANSWER_HOURS = env.float("ONLINE_CONSULT_ANSWER_HOURS", default=2)
ONLINE_CONSULT_PHOTO_MAX_BYTES = env.int("ONLINE_CONSULT_PHOTO_MAX_BYTES", default=10 * 1024 * 1024)

# --- The hotline (voice, docs/cti.md) ---------------------------------------------------------
# The secret the PBX signs its CTI events with (HMAC-SHA256 over the body); without it every
# event is refused.
CTI_WEBHOOK_SECRET = env.str("CTI_WEBHOOK_SECRET", default="")
# Where the PBX serves recordings and voicemail: the only address they are fetched from (scheme,
# host and port must match).
CTI_RECORDING_BASE_URL = env.str("CTI_RECORDING_BASE_URL", default="")
# A recording or voicemail larger than this is refused (and logged), not kept.
CTI_RECORDING_MAX_BYTES = env.int("CTI_RECORDING_MAX_BYTES", default=50 * 1024 * 1024)
# A voicemail, abandoned or missed call is called back within this many working minutes
# (the working calendar): the callback task's deadline.
CALLBACK_DEADLINE_MINUTES = env.int("CALLBACK_DEADLINE_MINUTES", default=30)

# Calling out (zhongdu.vms): the voice backend, console (development: printed), memory (tests)
# or aliyun (Alibaba Cloud's voice service, with the SMS account's AccessKey).
VOICE_BACKEND = env.str("VOICE_BACKEND", default="console")
# The hospital's number shown to both legs of a call (bought in the voice service's console).
ALIYUN_VOICE_SHOW_NUMBER = env.str("ALIYUN_VOICE_SHOW_NUMBER", default="")
# Only for tests and benchmarks: the local fake of the voice API (tests/fake_aliyun_vms.py).
ALIYUN_VMS_API_BASE_URL = env.str("ALIYUN_VMS_API_BASE_URL", default="")
# The secret path segment of the receipt push address (/voice/aliyun/receipt/<secret>/): the
# provider's pushes carry no signature, so the address is the key. Empty refuses every push.
ALIYUN_VOICE_RECEIPT_SECRET = env.str("ALIYUN_VOICE_RECEIPT_SECRET", default="")
if VOICE_BACKEND == "aliyun" and not (
    ALIYUN_ACCESS_KEY_ID and ALIYUN_ACCESS_KEY_SECRET and ALIYUN_VOICE_SHOW_NUMBER
):
    raise ImproperlyConfigured(
        "VOICE_BACKEND=aliyun needs ALIYUN_ACCESS_KEY_ID, ALIYUN_ACCESS_KEY_SECRET and "
        "ALIYUN_VOICE_SHOW_NUMBER."
    )
# What turns a voicemail into words (voice/transcription.py): the null engine hears nothing.
VOICE_TRANSCRIPTION_ENGINE = "voice.transcription.NullEngine"

# Voice reminders through the outbox (messaging, channel "voice"): per-number caps (at most so
# many calls to one number a minute, an hour, a day; over a cap a call waits, it is not
# dropped), and a busy or unanswered call tried again this many times, this many minutes later.
VOICE_CAP_PER_MINUTE = env.int("VOICE_CAP_PER_MINUTE", default=1)
VOICE_CAP_PER_HOUR = env.int("VOICE_CAP_PER_HOUR", default=5)
VOICE_CAP_PER_DAY = env.int("VOICE_CAP_PER_DAY", default=20)
VOICE_RETRY_ATTEMPTS = env.int("VOICE_RETRY_ATTEMPTS", default=2)
VOICE_RETRY_MINUTES = env.int("VOICE_RETRY_MINUTES", default=10)

# Private files, encrypted at rest with FIELD_ENCRYPTION_KEYS (zhongdu/private_files.py): call
# recordings and voicemail. A named volume in docker-compose; back it up with the database.
PRIVATE_FILES_ROOT = env.path("PRIVATE_FILES_ROOT", default=VAR_DIR / "private")

# --- Data protection ------------------------------------------------------------------------
# Identity numbers are encrypted at rest (Fernet) and found through a keyed hash. In production
# both keys are required; in development they are derived from the secret key so that no
# environment is needed. Generate a Fernet key with
#   python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
if DEBUG:
    import base64
    import hashlib

    _derived = base64.urlsafe_b64encode(hashlib.sha256(f"fernet:{SECRET_KEY}".encode()).digest())
    FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[_derived.decode()])
    SEARCH_HASH_KEY = env.str(
        "SEARCH_HASH_KEY", default=hashlib.sha256(f"hash:{SECRET_KEY}".encode()).hexdigest()
    )
    AUDIT_SEAL_KEYS = env.list(
        "AUDIT_SEAL_KEYS", default=[hashlib.sha256(f"audit-seal:{SECRET_KEY}".encode()).hexdigest()]
    )
else:
    FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
    SEARCH_HASH_KEY = env.str("SEARCH_HASH_KEY", default="")
    if not FIELD_ENCRYPTION_KEYS or not SEARCH_HASH_KEY:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS and SEARCH_HASH_KEY must be set when DJANGO_DEBUG is false."
        )
    AUDIT_SEAL_KEYS = env.list("AUDIT_SEAL_KEYS", default=[])
    if not AUDIT_SEAL_KEYS:
        raise ImproperlyConfigured("AUDIT_SEAL_KEYS must be set when DJANGO_DEBUG is false.")
# The audit trail is sealed in chained HMAC blocks (zhongdu/auditseal.py) with AUDIT_SEAL_KEYS:
# comma-separated secrets, the first seals new blocks, the others only verify the blocks they
# sealed (rotation). They live outside the database, so whoever can rewrite audit rows cannot
# rewrite the seals. Make one with `python -c "import secrets; print(secrets.token_hex(32))"`.
# Only rows older than the lag are sealed: longer than any transaction that writes an audit row
# stays open (requests, task batches), or its late commit would read as an insertion.
AUDIT_SEAL_LAG_SECONDS = 300
# Rows per block, at most (each block keeps 16 bytes a row to name a row that no longer matches).
AUDIT_SEAL_BATCH_SIZE = 2000

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Secrets in addresses (the push URLs' segment) are blanked in every line.
    "filters": {"redact": {"()": "zhongdu.logfilters.RedactSecrets"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    # axes logs every attempt; the Twilio SDK logs every request: warnings are enough.
    "loggers": {"axes": {"level": "WARNING"}, "twilio.http_client": {"level": "WARNING"}},
}

ADMIN_SITE_HEADER = _("Zhongdu customer-service centre")

if TESTING:
    # Hashing with PBKDF2's full work factor is the slowest part of a sign-in test.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
