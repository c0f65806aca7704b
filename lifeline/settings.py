"""Settings, read from environment variables through small typed helpers.

SQLite is the default so that a fresh checkout runs at once; one variable,
LIFELINE_DATABASE_URL, moves the installation to PostgreSQL. Nothing here is
meant to be edited by hand: every knob is an environment variable.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent


def envstr(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def envsecret(name: str, default: str = "") -> str:
    """A secret given directly, or in the file that NAME_FILE points to (Docker/K8s secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


DATA_DIR = Path(envstr("LIFELINE_DATA_DIR", str(Path.cwd() / "var")))
DEBUG = envbool("LIFELINE_DEBUG", False)
# Under pytest the suite uses a fast hasher, immediate tasks and LIFELINE_TEST_DATABASE_URL.
TESTING = envbool("LIFELINE_TESTING", False) or "pytest" in sys.modules
# The public default is for development and tests only: with DEBUG off the system check
# (core/checks.py) refuses to start with it, or with any key shorter than 50 characters.
# `make demo` generates real keys once under var/keys/ (core/keyfiles.py).
INSECURE_SECRET_KEY = "insecure-dev-key-change-me-in-production-0123456789"  # noqa: S105
SECRET_KEY = envsecret("LIFELINE_SECRET_KEY", INSECURE_SECRET_KEY)
# Secrets stored in the database (vendor passwords, SUSHI API keys) are encrypted with their own
# key (Fernet, derived by HKDF), so a leaked SECRET_KEY (sessions, signed links) does not open
# them. Old keys, comma separated, are still read; `lifeline rotate-keys` re-encrypts every
# stored value under the current key, after which the old ones can be dropped.
FIELD_ENCRYPTION_KEY = envsecret("LIFELINE_FIELD_KEY", SECRET_KEY)
FIELD_ENCRYPTION_OLD_KEYS = [
    k.strip() for k in envsecret("LIFELINE_FIELD_OLD_KEYS").split(",") if k.strip()
]
# The HMAC key that turns user names in access logs into pseudonyms (analytics/logs.py). Its own
# secret: rotating SECRET_KEY must not change the pseudonyms (distinct-user counts would break),
# and changing this one on purpose makes old pseudonyms unlinkable to new ones.
LOG_USER_KEY = envsecret("LIFELINE_LOG_USER_KEY", SECRET_KEY)
# Seed of the Ed25519 keys that sign verifiable documents (lifeline/core/signing.py).
# Its own secret so that rotating SECRET_KEY leaves issued receipts verifiable; old signing
# keys (comma separated) still verify what they signed, and sign nothing new.
SIGNING_KEY = envsecret("LIFELINE_SIGNING_KEY", SECRET_KEY)
SIGNING_OLD_KEYS = [
    k.strip() for k in envsecret("LIFELINE_SIGNING_OLD_KEYS").split(",") if k.strip()
]
ALLOWED_HOSTS = envlist("LIFELINE_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = envlist("LIFELINE_CSRF_TRUSTED_ORIGINS")
# Internal networks that outbound fetches (SUSHI, federation metadata, ISO 18626 peers, delivery
# URLs, webhooks) may reach, e.g. "10.20.0.0/16" for a campus repository; see core/outbound.py.
OUTBOUND_ALLOWED_NETWORKS = envlist("LIFELINE_OUTBOUND_ALLOW")
SITE_URL = envstr("LIFELINE_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
DEFAULT_LIBRARY = envstr("LIFELINE_DEFAULT_LIBRARY", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_tasks_db",
    "lifeline.core",
    "lifeline.registry",
    "lifeline.health",
    "lifeline.emergency",
    "lifeline.delivery",
    "lifeline.analytics",
    "lifeline.outreach",
    "lifeline.reference",
    "lifeline.accounts",
    "lifeline.selection",
    "lifeline.research",
]
# --- theses (issue 15): thesis deposit
INSTALLED_APPS += ["lifeline.theses"]
INSTALLED_APPS += ["lifeline.reports"]
INSTALLED_APPS += ["lifeline.push"]
INSTALLED_APPS += ["lifeline.knowledge"]
# --- accounts (issue 7): login throttling and the optional TOTP second factor --------
INSTALLED_APPS += ["axes", "django_otp", "django_otp.plugins.otp_totp"]

MIDDLEWARE = [
    # First, to time and count every answer (lifeline/core/metrics.py).
    "lifeline.core.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "lifeline.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "lifeline.core.middleware.AuditUserMiddleware",
    "lifeline.core.middleware.SecurityHeadersMiddleware",
    # Per-library limits on anonymous API and form use (429 + Retry-After).
    "lifeline.core.ratelimit.RateLimitMiddleware",
]
# Off under tests (counts would leak from one test to the next on a worker and the persona walks
# send hundreds of anonymous requests); core/tests/test_ratelimit.py switches them on.
RATE_LIMITS = envbool("LIFELINE_RATE_LIMITS", not TESTING)
# --- accounts (issue 7): OTP state on request.user; axes last so it sees every failed login.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)
MIDDLEWARE.append("axes.middleware.AxesMiddleware")

ROOT_URLCONF = "lifeline.urls"
WSGI_APPLICATION = "lifeline.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates", BASE_DIR / "registry" / "io" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "lifeline.core.context_processors.lifeline",
            ],
        },
    },
]

# --- emergency (issue 4): the service-mode banner on every page (one cache read per request).
TEMPLATES[0]["OPTIONS"]["context_processors"].append(  # type: ignore[index]
    "lifeline.emergency.context_processors.active_emergency"
)

# --- database -----------------------------------------------------------------
_default_sqlite = f"sqlite:///{DATA_DIR / 'lifeline.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        (TESTING and envstr("LIFELINE_TEST_DATABASE_URL"))
        or envstr("LIFELINE_DATABASE_URL", _default_sqlite),
        conn_max_age=envint("LIFELINE_DB_CONN_MAX_AGE", 600),
        # A kept connection whose server restarted is found dead at the start of the next
        # request and replaced, instead of failing that request (issue 16, surge test).
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # While the server is down or unreachable, a page answers the friendly 503 within seconds
    # (lifeline/core/dbdown.py) instead of holding a web thread for the OS's TCP timeout.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = envint(
        "LIFELINE_DB_CONNECT_TIMEOUT", 3
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers go on while the worker writes; IMMEDIATE transactions take the
    # write lock up front, so two writers queue instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0 if TESTING else DATABASES["default"]["CONN_MAX_AGE"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache, tasks ---------------------------------------------------------------
REDIS_URL = envstr("LIFELINE_REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Progress and cancel flags of background imports (lifeline.core.jobs): seen by the web
# processes and the worker alike, so Redis when there is one, else files on this machine.
CACHES["jobs"] = (
    {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "jobs"}
    if TESTING  # tasks run in the test's own process
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "cache" / "jobs"),
    }
)

# One code path for background work: functions decorated with django.tasks.task.
# Single machine: the database backend, its worker inside `lifeline serve` or `lifeline worker`.
# Beyond one machine: LIFELINE_TASK_BACKEND=rq puts the same tasks on Redis for RQ workers.
TASK_BACKEND = envstr("LIFELINE_TASK_BACKEND", "immediate" if TESTING else "database")
if TASK_BACKEND == "rq":
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {"default": {"URL": REDIS_URL or "redis://127.0.0.1:6379/0"}}
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
elif TASK_BACKEND == "immediate":
    TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- auth -----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:home"
SESSION_COOKIE_AGE = envint("LIFELINE_SESSION_SECONDS", 8 * 3600)
# Django's database sessions, read without the ORM's cost on every signed-in request (issue 12;
# why not a cached store: lifeline/core/sessions.py).
SESSION_ENGINE = "lifeline.core.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_COOKIES = envbool("LIFELINE_SECURE_COOKIES", not DEBUG and SITE_URL.startswith("https://"))
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
if envbool("LIFELINE_BEHIND_HTTPS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- accounts (issue 7): throttling, HSTS, SAML keys -------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend with the user read by one hand-written SELECT (core/backends.py).
    "lifeline.core.backends.ModelBackend",
]
# Off under tests by default (Django's test client logs in without a request, which axes
# refuses); the accounts tests switch it on to prove the lock-out.
AXES_ENABLED = envbool("LIFELINE_LOGIN_THROTTLING", not TESTING)
AXES_FAILURE_LIMIT = envint("LIFELINE_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = envint("LIFELINE_LOGIN_COOLOFF_MINUTES", 15) / 60  # hours
# Lock the user name from one address: a typo-prone patron elsewhere is not locked out with it.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "accounts/locked.html"
AXES_RESET_ON_SUCCESS = True
# The client's address (lock-outs, the fault-report limit, API throttles) comes from django-ipware,
# the library axes expects (issue 21: without it every client behind the proxy shared one
# address). LIFELINE_PROXY_COUNT is the number of reverse proxies in front of Lifeline, each of
# which appends the address it saw to X-Forwarded-For (nginx's $proxy_add_x_forwarded_for). The
# client is then the entry that many places from the right: what a client wrote into the header
# itself stays to the left and is ignored. Without a proxy only REMOTE_ADDR counts.
PROXY_COUNT = envint("LIFELINE_PROXY_COUNT", 1 if envbool("LIFELINE_BEHIND_HTTPS_PROXY") else 0)
AXES_IPWARE_META_PRECEDENCE_ORDER: tuple[str, ...] = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if PROXY_COUNT else ("REMOTE_ADDR",)
)
# ipware counts the proxies listed in the header, i.e. all but the one that connects to us.
AXES_IPWARE_PROXY_COUNT: int | None = PROXY_COUNT - 1 if PROXY_COUNT else None
AXES_IPWARE_PROXY_ORDER = "left-most"
# Not strict: a header with extra (client-written) entries still yields the proxy's entry.
IPWARE_STRICT = False
# Failed sign-ins from one address, whatever the user names, within the cool-off: password
# spraying (many names, one address) is slowed too. Higher than the per-name limit: a campus
# network shares addresses.
LOGIN_ADDRESS_FAILURE_LIMIT = envint("LIFELINE_LOGIN_ADDRESS_FAILURE_LIMIT", 30)
SECURE_HSTS_SECONDS = envint("LIFELINE_HSTS_SECONDS", 31536000 if SECURE_COOKIES else 0)
SECURE_SSL_REDIRECT = envbool("LIFELINE_SSL_REDIRECT", False)
LANGUAGE_COOKIE_SECURE = SECURE_COOKIES
# SAML service-provider key pair; generated into DATA_DIR/saml/ at first use when not given.
SAML_KEY_FILE = envstr("LIFELINE_SAML_KEY_FILE")
SAML_CERT_FILE = envstr("LIFELINE_SAML_CERT_FILE")
SAML_XMLSEC_BINARY = envstr("LIFELINE_XMLSEC_BINARY", "/usr/bin/xmlsec1")
# Clock skew tolerated between the IdP and us, in seconds.
SAML_CLOCK_SKEW = envint("LIFELINE_SAML_CLOCK_SKEW", 60)

# --- i18n -----------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LANGUAGE_COOKIE_NAME = "lifeline_lang"
# registry/io (import/export) keeps its own catalogue and templates beside its code.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "registry" / "io" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static, media, uploads ----------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_ROOT = Path(envstr("LIFELINE_MEDIA_ROOT", str(DATA_DIR / "media")))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not TESTING
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# An upload bigger than this is refused before it is read (imports, fault screenshots, deliveries).
LIFELINE_MAX_UPLOAD_BYTES = envint("LIFELINE_MAX_UPLOAD_BYTES", 100 * 1024 * 1024)

# --- e-mail ---------------------------------------------------------------------
# Django 6.1's MAILERS (the EMAIL_* settings are deprecated). One mailer, "default": SMTP, or
# the console in development, or the demo's local mailbox.
DEFAULT_FROM_EMAIL = envstr("LIFELINE_EMAIL_FROM", "lifeline@localhost")
# Demo mode (`make demo`): the stand-in vendor site answers at /status/demo-vendor/ and e-mail
# lands in the local mailbox page instead of leaving the machine (lifeline/health/standin.py).
DEMO_MODE = envbool("LIFELINE_DEMO", False)
# Whether an SMTP server was named at all (`lifeline check` warns before go-live when not).
SMTP_CONFIGURED = bool(envstr("LIFELINE_EMAIL_HOST"))


def smtp_mailer(host: str, port: int, **options: Any) -> dict[str, Any]:
    return {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": host, "port": port, "timeout": 10, **options},
    }


_email_backend = envstr("LIFELINE_EMAIL_BACKEND")
if DEMO_MODE and not _email_backend:
    MAILERS = {"default": {"BACKEND": "lifeline.health.standin.MailboxBackend"}}
elif _email_backend == "console" or (DEBUG and not _email_backend):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
else:
    MAILERS = {
        "default": smtp_mailer(
            envstr("LIFELINE_EMAIL_HOST", "127.0.0.1"),
            envint("LIFELINE_EMAIL_PORT", 25),
            username=envstr("LIFELINE_EMAIL_USER"),
            password=envsecret("LIFELINE_EMAIL_PASSWORD"),
            use_tls=envbool("LIFELINE_EMAIL_TLS", False),
            use_ssl=envbool("LIFELINE_EMAIL_SSL", False),
        )
    }

# --- API ------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "lifeline.core.api_auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Every list has a maximum page (issue 21): the project paginator, never DRF's unbounded one.
    "DEFAULT_PAGINATION_CLASS": "lifeline.core.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_RATES": {"anon": "120/min", "fault_report": "10/hour"},
    # The same trusted proxies as above for DRF's throttles (None: REMOTE_ADDR only).
    "NUM_PROXIES": PROXY_COUNT or None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Lifeline API",
    "DESCRIPTION": (
        "Resource registry, access health, emergency plans, document delivery and usage analytics."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}
# API (issue 2, part 6): document the 400/401/403/404 replies of every operation, so that
# responses a schema fuzzer provokes still match the document.
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",
    "lifeline.core.api_base.add_error_responses",
]

# --- operations: /metrics (Prometheus) answers only these addresses; JSON log lines as an option.
METRICS_ALLOWED_NETWORKS = envlist("LIFELINE_METRICS_ALLOW", "127.0.0.0/8,::1/128")
LOG_FORMAT = envstr("LIFELINE_LOG_FORMAT", "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_saml": {"()": "lifeline.accounts.saml.logfilter.RedactSamlFilter"},
        "database_outage": {"()": "lifeline.core.dbdown.OutageLogFilter"},
    },
    "formatters": {"json": {"()": "lifeline.core.jsonlog.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["redact_saml", "database_outage"],
            **({"formatter": "json"} if LOG_FORMAT == "json" else {}),
        }
    },
    "root": {"handlers": ["console"], "level": envstr("LIFELINE_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        # Both chatter at INFO on every start (schema loading, lockout banner).
        "xmlschema": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # pysaml2 logs whole SAML messages (eppn, names, mail) below WARNING (issue 23).
        "saml2": {"level": "WARNING"},
    },
}

if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- document delivery (lifeline/delivery) ---------------------------------------
# Service hours count the 24 h target (seed: 08:00–22:00 every day); files and patron details
# are removed after these many days, the request's statistics stay.
DELIVERY_SERVICE_HOURS = envstr("LIFELINE_DELIVERY_HOURS", "08:00-22:00")
DELIVERY_TARGET_HOURS = envint("LIFELINE_DELIVERY_TARGET_HOURS", 24)
DELIVERY_LINK_DAYS = envint("LIFELINE_DELIVERY_LINK_DAYS", 14)
DELIVERY_PURGE_DAYS = envint("LIFELINE_DELIVERY_PURGE_DAYS", 30)
DELIVERY_PRIVACY_DAYS = envint("LIFELINE_DELIVERY_PRIVACY_DAYS", 180)

# --- access health (lifeline/health) -------------------------------------------------
# An HTTP proxy on the campus network for routes marked "probe through the library's proxy"
# (IP-authenticated resources only answer campus addresses).
HEALTH_PROBE_PROXY = envstr("LIFELINE_PROBE_PROXY")
# Extra CA bundle for probes (an internal CA); empty: the system's trust store.
HEALTH_PROBE_CA_BUNDLE = envstr("LIFELINE_PROBE_CA_BUNDLE")
HEALTH_PROBE_CONCURRENCY = envint("LIFELINE_PROBE_CONCURRENCY", 200)
# A probe reads at most this much of any body (keywords are searched in it).
HEALTH_PROBE_MAX_BODY_BYTES = envint("LIFELINE_PROBE_MAX_BODY_BYTES", 2 * 1024 * 1024)
# Private/loopback probe targets for every route (development only; otherwise an admin
# allows one route at a time).
HEALTH_ALLOW_PRIVATE_TARGETS = envbool("LIFELINE_PROBE_ALLOW_PRIVATE", False)
HEALTH_REPORTS_PER_HOUR = envint("LIFELINE_FAULT_REPORTS_PER_HOUR", 5)
HEALTH_SCREENSHOT_MAX_BYTES = envint("LIFELINE_SCREENSHOT_MAX_BYTES", 5 * 1024 * 1024)

# --- patron pages / base template (registry views) -----------------------------------
# The site-wide stylesheet and scripts (lifeline/static/) belong to no app, so the static
# finders, WhiteNoise and collectstatic must be told where they are.
STATICFILES_DIRS = [BASE_DIR / "static"]
# push (issue 11): how long a bulk sender holds the messages it is sending; a run restarted
# after its worker died waits this long before sending what was in flight.
PUSH_LEASE_SECONDS = envint("LIFELINE_PUSH_LEASE_SECONDS", 60)

# The reference desk's inbound SMTP gateway (`lifeline mail-gateway`). With a port set,
# `lifeline worker` (and `lifeline serve` with its worker) runs and supervises it; set it on the
# one machine the campus relay forwards the desk's mail to. 0: not run.
MAIL_GATEWAY_PORT = envint("LIFELINE_MAIL_GATEWAY_PORT", 0)
MAIL_GATEWAY_HOST = envstr("LIFELINE_MAIL_GATEWAY_HOST", "127.0.0.1")
