"""Settings for the oncology EDC, configured from the environment.

DATABASE_URL     unset: an SQLite file in the project folder (no server needed)
DJANGO_DEBUG     "1"/"true" turns debug on (the README's run command does)
DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS   required when debug is off
EDC_TOKEN_TTL_HOURS, EDC_SESSION_IDLE_MINUTES, EDC_LOGIN_FAILURE_LIMIT, EDC_LOGIN_LOCKOUT_MINUTES
                 authentication limits, see "Authentication" below
EDC_API_RATE_PER_TOKEN, EDC_API_RATE_ANONYMOUS   API rate limits, see "The REST API" below
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _env_positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ImproperlyConfigured(f"{name} must be a whole number of 1 or more, not {raw!r}.")
    return value


DEBUG = _env_bool("DJANGO_DEBUG", False)
TESTING = _env_bool("EDC_TESTING", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or TESTING:
        # Only for local development and tests: a production start without a key is refused below.
        SECRET_KEY = "insecure-development-key-not-for-production"
    else:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off (DJANGO_DEBUG=1 for local development)."
        )

ALLOWED_HOSTS = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h.strip()]
if not ALLOWED_HOSTS:
    if DEBUG or TESTING:
        ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
    else:
        raise ImproperlyConfigured(
            "DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is off "
            "(DJANGO_DEBUG=1 for local development)."
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    # Before edc.accounts: axes flags a locked account before the account-event receivers run.
    "axes",
    "edc.accounts",
    "edc.core",
    "studies",
    "edc.subjects",
    "edc.consent",
    "edc.eligibility",
    "edc.visits",
    "edc.forms",
    "edc.safety",
    "edc.tumors",
    "edc.outcomes",
    "edc.api",
]

MIDDLEWARE = [
    # Outermost: any error page under /api/ that no DRF view produced gets the API's error shape.
    "edc.api.middleware.ApiErrorShapeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # A NUL in the path or query string is refused (400) before any view or query sees it.
    "edc.core.middleware.RejectNulMiddleware",
    # Serves the admin's static files under gunicorn (docker-compose) without a separate web server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Keeps an active session alive; an idle one expires after EDC_SESSION_IDLE_MINUTES.
    "edc.accounts.middleware.IdleSessionMiddleware",
    # The language: the user's choice (cookie, set in the admin), else the browser's Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last: turns a login refused for a locked account into edc.accounts.lockout's 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "edc.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "edc" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "edc.wsgi.application"
ASGI_APPLICATION = "edc.asgi.application"

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
    )
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Timestamps are stored in UTC; "today" for a site is computed in the site's own time zone.
TIME_ZONE = "UTC"
USE_TZ = True

# --- Languages: English and Simplified Chinese (docs/i18n.md) ----------------------------------
# The admin and the API speak the user's language: the one picked in the admin (a cookie that
# outlives the session, so the choice sticks), else the browser's Accept-Language, else English.
# This project's catalogue is locale/zh_Hans/LC_MESSAGES/django.po; Django, DRF and the other apps
# bring their own. Clinical codes, CTCAE terms and verbatim protocol text are never translated.
USE_I18N = True
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("zh-hans", _("Simplified Chinese")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# Reverting to an old version from the admin history would bypass the reason-for-change write path.
SIMPLE_HISTORY_REVERT_DISABLED = True
# A reason for change is stored whole: a varchar(100) cut it off (a 500 on PostgreSQL).
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

EDC_FIXTURES_DIR = BASE_DIR / "fixtures"

# --- The REST API (edc/api/, docs/api.md) ---------------------------------------------------------
# Rate limits (edc/api/throttling.py): requests per API token (per user for a session), and per
# address for requests without credentials (the token endpoint). Over the limit: 429 with
# Retry-After. A rate is N/second, N/minute, N/hour or N/day.
_RATE = re.compile(r"[1-9][0-9]*/(second|minute|hour|day)")


def _api_rate(name: str, raw: str) -> str:
    if not _RATE.fullmatch(raw.strip()):
        raise ImproperlyConfigured(f"{name} must be a rate such as 600/minute, not {raw!r}.")
    return raw.strip()


EDC_API_RATE_PER_TOKEN = _api_rate(
    "EDC_API_RATE_PER_TOKEN", os.environ.get("EDC_API_RATE_PER_TOKEN", "600/minute")
)
EDC_API_RATE_ANONYMOUS = _api_rate(
    "EDC_API_RATE_ANONYMOUS", os.environ.get("EDC_API_RATE_ANONYMOUS", "60/minute")
)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Tokens that expire and are revoked on a password change or deactivation.
        "edc.accounts.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PARSER_CLASSES": [
        # DRF's JSON parser with a nesting limit (deep nesting was a 500).
        "edc.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Every list pages by cursor ({"next", "previous", "results"}), stable under concurrent inserts.
    "DEFAULT_PAGINATION_CLASS": "edc.api.pagination.CursorPagination",
    # django-filter's per-resource filters, and updated_since on every list (sync clients).
    "DEFAULT_FILTER_BACKENDS": [
        "edc.api.filters.StrictFilterBackend",
        "edc.api.filters.UpdatedSinceFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "edc.api.throttling.TokenRateThrottle",
        "edc.api.throttling.AnonymousRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {"token": EDC_API_RATE_PER_TOKEN, "anonymous": EDC_API_RATE_ANONYMOUS},
    "DEFAULT_SCHEMA_CLASS": "edc.api.schema.ApiSchema",
    "EXCEPTION_HANDLER": "edc.api.errors.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# The OpenAPI schema (/api/schema/) and its two readers, served from the installed
# drf-spectacular-sidecar package: /api/docs/ (Swagger UI) and /api/redoc/ work with no internet.
SPECTACULAR_SETTINGS = {
    "TITLE": "Oncology EDC API",
    "DESCRIPTION": (
        "Electronic data capture for oncology clinical trials. Pagination, sync with updated_since, "
        "versions and ETags, rate limits and the error shape: docs/api.md."
    ),
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No call to the public validator service (Swagger UI's default badge).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "ENUM_NAME_OVERRIDES": {"CollectionStartEnum": "studies.models.CollectionStart"},
}

# --- Authentication: lockout, API token lifetime, idle sessions, account events ---------------
# Failed logins on the admin and on POST /api/auth/token/ alike (both go through authenticate())
# are counted per username by django-axes in the database (so tests, which roll the database back,
# never share a lockout). After EDC_LOGIN_FAILURE_LIMIT failures the account is refused, even with
# the right password, for EDC_LOGIN_LOCKOUT_MINUTES after the last counted failure: 429, in the
# API's error shape under /api/ (edc.accounts.lockout). A successful login resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked account before checking a password
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = _env_positive_int("EDC_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=_env_positive_int("EDC_LOGIN_LOCKOUT_MINUTES", 30))
# Per account, not per address: the staff of a hospital often share one outgoing address, and a
# lockout per address would lock them all out after a few typos. Axes warns (W006) that a
# username-only lockout can be dodged by rotating cookies or user agents; it cannot: the count is
# per username whatever the client sends, so the warning is silenced.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
# Attempts during a lockout are refused without extending it: the lockout ends when it says.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "edc.accounts.lockout.lockout_response"
# Logins, logouts and failures are recorded as edc.accounts account events (admin: Accounts).
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False

# API tokens (edc.accounts.authentication) expire this long after login.
EDC_TOKEN_TTL = timedelta(hours=_env_positive_int("EDC_TOKEN_TTL_HOURS", 8))

# A session expires after this long without a request (edc.accounts.middleware keeps an active
# one alive), and when the browser closes.
SESSION_COOKIE_AGE = 60 * _env_positive_int("EDC_SESSION_IDLE_MINUTES", 30)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

if not DEBUG:
    SESSION_COOKIE_SECURE = _env_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = _env_bool("DJANGO_SECURE_COOKIES", True)
    LANGUAGE_COOKIE_SECURE = _env_bool("DJANGO_SECURE_COOKIES", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
}
