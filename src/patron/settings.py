"""Patron's one settings module, read from the environment (PATRON_*)."""

from __future__ import annotations

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
        "PATRON_SECRET_KEY is not set and there is no var/secret_key. Run `patron init` "
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
    "patron.core",
    "patron.customers",
    "patron.sales",
    "patron.insights",
    "patron.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
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
SESSION_COOKIE_SECURE = _env_bool("PATRON_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("PATRON_LOG_LEVEL", "WARNING")},
}
