"""Patron's one settings module, read from the environment (PATRON_*)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from patron.core.secret import var_dir

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = var_dir()

INSECURE_DEFAULT_SECRET_KEY = "patron-insecure-development-key"


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {value!r}")


DEBUG = _env_bool("PATRON_DEBUG", False)
SECRET_KEY_FILE = VAR_DIR / "secret_key"  # written by `patron init` (mode 600) when no env key


def _secret_key() -> str:
    key = os.environ.get("PATRON_SECRET_KEY")
    if key:
        return key
    if SECRET_KEY_FILE.exists():
        return SECRET_KEY_FILE.read_text().strip()
    return INSECURE_DEFAULT_SECRET_KEY


SECRET_KEY = _secret_key()
# Refusing here (not only in a system check) stops every entry point: serve, wsgi, manage.
if (
    SECRET_KEY == INSECURE_DEFAULT_SECRET_KEY
    and not DEBUG
    and not _env_bool("PATRON_ALLOW_INSECURE_KEY", False)
):
    raise ImproperlyConfigured(
        f"PATRON_SECRET_KEY is not set and there is no {SECRET_KEY_FILE}. Run `patron init` "
        "(it writes one), or set PATRON_SECRET_KEY to a long random string, "
        "or set PATRON_DEBUG=true for local development."
    )

ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("PATRON_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if host.strip()
]

TIME_ZONE = os.environ.get("PATRON_TIME_ZONE", "Asia/Shanghai")
USE_TZ = True
PATRON_CURRENCY = os.environ.get("PATRON_CURRENCY", "CNY")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "auditlog",
    "ninja",  # Swagger UI's files for /api/v1/docs, served from here (no CDN)
    "patron.core",
    "patron.accounts",
    "patron.customers",
    "patron.sales",
    "patron.ingest",
    "patron.insights",
    "patron.retention",
    "patron.service",
    "patron.loyalty",
    "patron.jobs",
    "patron.messaging",
    "patron.campaigns",
    "patron.recommend",
    "patron.members",  # member self-service: portal /member/, API /api/v1/member (issue 20)
    "patron.web",
    "huey.contrib.djhuey",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "patron.core.middleware.NulBytesRefusedMiddleware",  # \x00 in a path, query or JSON: 400
    "patron.core.middleware.SecurityHeadersMiddleware",  # Content-Security-Policy
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "auditlog.middleware.AuditlogMiddleware",  # the signed-in user is the actor of changes
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "patron.urls"
WSGI_APPLICATION = "patron.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DEFAULT_SQLITE_PATH = VAR_DIR / "patron.sqlite3"
DATABASE_URL = os.environ.get("PATRON_DATABASE_URL", f"sqlite:///{DEFAULT_SQLITE_PATH}")


def database_settings(url: str) -> dict[str, object]:
    """Django DATABASES entry for a URL; SQLite gets WAL, foreign keys and a busy timeout."""
    config: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=60))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        name = str(config["NAME"])
        if name not in ("", ":memory:"):
            Path(name).parent.mkdir(parents=True, exist_ok=True)
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; "
                "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536; PRAGMA threads=2;"
            ),
        }
    return config


DATABASES = {"default": database_settings(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Tests run on a real SQLite file (WAL and all), not an in-memory database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing
WHITENOISE_USE_FINDERS = True  # serve app static files straight from the package, offline
WHITENOISE_AUTOREFRESH = DEBUG

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "login"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Behind a proxy that ends TLS (nginx, Caddy; docs/operating.md): trust its
# X-Forwarded-Proto, and name the public origin(s) forms are posted from.
PATRON_TLS_PROXY = _env_bool("PATRON_TLS_PROXY", False)
if PATRON_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = [
    origin.strip()
    for origin in os.environ.get("PATRON_CSRF_TRUSTED_ORIGINS", "").split(",")
    if origin.strip()
]
SESSION_COOKIE_SECURE = _env_bool("PATRON_SECURE_COOKIES", PATRON_TLS_PROXY)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# HSTS only when TLS is on (Django sends it on HTTPS requests only).
SECURE_HSTS_SECONDS = int(
    os.environ.get("PATRON_HSTS_SECONDS", str(365 * 24 * 3600 if SESSION_COOKIE_SECURE else 0))
)
# Patron loads nothing from elsewhere: scripts, styles, fonts and images are its own
# (patron.core.middleware.SecurityHeadersMiddleware; the API docs page is left out).
PATRON_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
CSRF_COOKIE_HTTPONLY = True  # no script reads it; forms carry the token
SESSION_COOKIE_AGE = 12 * 60 * 60  # a working day; signing in again after that
SECURE_REFERRER_POLICY = "same-origin"
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"

# Sign-in throttling (patron.accounts.throttle): failures per user name and address.
PATRON_SIGNIN_MAX_FAILURES = int(os.environ.get("PATRON_SIGNIN_MAX_FAILURES", "5"))
# ... and per user name from any address, per address for any user names (every sign-in form).
PATRON_SIGNIN_MAX_FAILURES_WIDE = int(os.environ.get("PATRON_SIGNIN_MAX_FAILURES_WIDE", "20"))
PATRON_SIGNIN_WINDOW_SECONDS = 15 * 60
PASSWORD_RESET_TIMEOUT = 24 * 60 * 60


def cache_settings(url: str) -> dict[str, object]:
    """Django CACHES entry: a file cache under var/ by default (shared by server processes),
    redis://... for Redis, locmem:// for one process."""
    if url.startswith(("redis://", "rediss://")):
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    if url.startswith("locmem:"):
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    return {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache"),
    }


CACHES = {"default": cache_settings(os.environ.get("PATRON_CACHE_URL", ""))}


def email_settings(url: str) -> dict[str, object]:
    """Mail settings from PATRON_EMAIL_URL: smtp://user:pass@host:587 (STARTTLS with
    ?tls=true), smtps://... (SSL), console:// (the default: mail is printed), locmem://."""
    from urllib.parse import parse_qs, unquote, urlsplit

    if not url or url.startswith("console:"):
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if url.startswith("locmem:"):
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ImproperlyConfigured(f"PATRON_EMAIL_URL must start with smtp://, smtps://, "
                                   f"console:// or locmem://, got {parts.scheme!r}")  # fmt: skip
    query = parse_qs(parts.query)
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname or "localhost",
        "EMAIL_PORT": parts.port or (465 if parts.scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_USE_TLS": query.get("tls", ["false"])[0].lower() in ("1", "true", "yes"),
        "EMAIL_TIMEOUT": 20,
    }


globals().update(email_settings(os.environ.get("PATRON_EMAIL_URL", "")))
DEFAULT_FROM_EMAIL = os.environ.get("PATRON_EMAIL_FROM", "Patron <patron@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SECURE_CONTENT_TYPE_NOSNIFF = True


def huey_settings(url: str, *, name: str, immediate: bool, workers: int) -> dict[str, object]:
    """Huey (background jobs, patron.jobs) from PATRON_QUEUE_URL: a SQLite file under var/ by
    default (nothing to install or run), redis://... for Redis. ``immediate`` runs each job
    at once in the process that starts it, with no queue and no worker (the test suite)."""
    common: dict[str, object] = {
        "name": name,
        "immediate": immediate,
        "results": False,  # a job's outcome is kept on its Job row, not in the queue
        "utc": True,
        "consumer": {"workers": workers, "worker_type": "thread", "check_worker_health": True},
    }
    if url.startswith(("redis://", "rediss://")):
        return {**common, "huey_class": "huey.RedisHuey", "url": url}
    if url and not url.startswith("sqlite:///"):
        raise ImproperlyConfigured(
            f"PATRON_QUEUE_URL must be sqlite:///PATH or redis://HOST:PORT/DB, got {url!r}"
        )
    path = Path(url.removeprefix("sqlite:///")) if url else VAR_DIR / "jobs.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    return {**common, "huey_class": "huey.SqliteHuey", "filename": str(path)}


# One queue per database: a job id means nothing in another database (the demo's, say).
_QUEUE_NAME = "patron-" + hashlib.sha256(DATABASE_URL.encode()).hexdigest()[:10]
HUEY = huey_settings(
    os.environ.get("PATRON_QUEUE_URL", ""),
    name=os.environ.get("PATRON_QUEUE_NAME", _QUEUE_NAME),
    immediate=_env_bool("PATRON_JOBS_IMMEDIATE", False),
    workers=int(os.environ.get("PATRON_WORKERS", "1")),
)
# Files uploaded for import in the browser, kept until the import is done with them.
PATRON_UPLOAD_DIR = Path(os.environ.get("PATRON_UPLOAD_DIR", str(VAR_DIR / "uploads")))
PATRON_UPLOAD_MAX_MB = int(os.environ.get("PATRON_UPLOAD_MAX_MB", "500"))
# API pages: customers per page by default and at most (patron.core.api_support).
PATRON_API_PAGE = int(os.environ.get("PATRON_API_PAGE", "50"))
PATRON_API_MAX_PAGE = int(os.environ.get("PATRON_API_MAX_PAGE", "200"))
# An upload's preview runs in a child process with this much address space (jobs.preview_child).
PATRON_PREVIEW_MEMORY_MB = int(os.environ.get("PATRON_PREVIEW_MEMORY_MB", "1536"))
# Orders dated outside this window are row errors (docs/importing.md): from this day (in
# TIME_ZONE) to this many days after now.
PATRON_ORDER_DATES_FROM = os.environ.get("PATRON_ORDER_DATES_FROM", "1970-01-01")
PATRON_ORDER_DATES_FUTURE_DAYS = int(os.environ.get("PATRON_ORDER_DATES_FUTURE_DAYS", "1"))
# Where `patron analyze` computes a stored run: "duckdb" copies the orders into an in-memory
# DuckDB first (patron.insights.engine), "database" runs it in the app database, "spark"
# copies them to Parquet and runs on Spark (patron.insights.spark_store).
PATRON_ANALYSIS_ENGINE = os.environ.get("PATRON_ANALYSIS_ENGINE", "duckdb")
# Where a stored run on Spark writes its temporary Parquet (the orders, the customers):
# the system's temporary directory by default; on a cluster, a path every executor sees.
PATRON_SPARK_TEMP_DIR = os.environ.get("PATRON_SPARK_TEMP_DIR") or None

# Messaging (patron.messaging): the address links in messages point to, and the SMS gateway
# (an HTTP endpoint taking {"to", "text", "id"} as JSON; a bearer token when set).
PATRON_BASE_URL = os.environ.get("PATRON_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
PATRON_SMS_URL = os.environ.get("PATRON_SMS_URL", "")
PATRON_SMS_TOKEN = os.environ.get("PATRON_SMS_TOKEN", "")
# PostgreSQL: the outbox's batch commits (reserve and claim a batch, mark it sent) wait for the
# disk (true: a database server crash cannot undo a claim and cause a second send). false
# trades that for speed on very slow disks.
PATRON_OUTBOX_DURABLE_COMMITS = _env_bool("PATRON_OUTBOX_DURABLE_COMMITS", True)
# Member self-service (patron.members, issue 20): sign-in codes an address may ask for per
# hour, how long a member session lasts, how many days ahead points expiring are announced.
PATRON_MEMBER_CODES_PER_HOUR = int(os.environ.get("PATRON_MEMBER_CODES_PER_HOUR", "5"))
PATRON_MEMBER_SESSION_DAYS = int(os.environ.get("PATRON_MEMBER_SESSION_DAYS", "30"))
PATRON_MEMBER_EXPIRY_NOTICE_DAYS = int(os.environ.get("PATRON_MEMBER_EXPIRY_NOTICE_DAYS", "14"))

# Each outbox worker's journal of the messages it hands over (patron.messaging.journal): local
# to the machine the workers run on.
PATRON_OUTBOX_JOURNAL_DIR = Path(
    os.environ.get("PATRON_OUTBOX_JOURNAL_DIR", str(VAR_DIR / "outbox"))
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("PATRON_LOG_LEVEL", "WARNING")},
    # The worker's own lines (jobs taken and done), once: Huey adds no handler of its own.
    # Not the consumer's start-up banner (threads, scheduler, its list of task names), which
    # tells a person starting `patron serve` nothing; its warnings and errors still show.
    "loggers": {
        "huey": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "huey.consumer": {"level": "WARNING"},
    },
}
