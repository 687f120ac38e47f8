"""Django settings of Metodist. Everything that differs between installations comes from METODIST_*."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from metodist import config

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = config.data_dir()

SECRET_KEY = config.secret_key()
PSEUDONYM_KEY = config.pseudonym_key()
DEBUG = os.environ.get("METODIST_DEBUG", "") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("METODIST_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "metodist.core",
    "metodist.reference",
    "metodist.collection",
    "metodist.analysis",
    "metodist.practices",
    "metodist.planning",
    "metodist.assistance",
    "metodist.monitoring",
    "metodist.demo",
    "metodist.documents",
]

MIDDLEWARE = [
    "metodist.core.memo.RequestMemoMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "metodist.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "metodist.core.acting.ActingRoleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # last, as its documentation asks: turns a locked-out sign-in into the lockout page
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "metodist.urls"
WSGI_APPLICATION = "metodist.wsgi.application"

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
                "metodist.core.context.frame",
            ],
        },
    },
]


def _databases() -> dict:
    db = dj_database_url.parse(config.database_url(), conn_max_age=60)
    if db["ENGINE"] == "django.db.backends.sqlite3":
        db["CONN_MAX_AGE"] = 0
        # WAL lets the web server read while an import writes; IMMEDIATE avoids "database is locked"
        # on the upgrade of a read transaction to a write one.
        db["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
        db["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
    return {"default": db}


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Русский")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("METODIST_TIME_ZONE", "Europe/Moscow")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# The project serves its own static files (closed school networks, no CDN, no separate web server
# required): WhiteNoise, straight from the apps' folders, so no collectstatic step is needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = DATA_DIR / "uploads"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 60 * 60  # a working day
CSRF_COOKIE_HTTPONLY = False  # htmx sends the token from the page's meta tag, not the cookie

AUTHENTICATION_BACKENDS = [
    # first: refuses a sign-in while the user (or address) is locked out after repeated failures
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling (django-axes): after 5 failed attempts for one user name from one address, that pair
# is locked for 15 minutes; a successful sign-in resets the count.
AXES_FAILURE_LIMIT = int(os.environ.get("METODIST_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("METODIST_LOGIN_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "core/locked_out.html"
AXES_VERBOSE = False

# Background work (imports of large files, whole analyses): django-tasks with its database backend, so
# no broker is needed; `metodist serve` runs a worker beside the web server. Tests run tasks at once.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("METODIST_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Metodist API",
    "DESCRIPTION": "Read access to organisations, assessments, results aggregates, problem fields, "
                   "classifications and deficits; upload of files. The same access rules as the pages.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # every app has a «status»: name each set of choices after its model's enum
    "ENUM_NAME_OVERRIDES": {
        "RoadmapStatusEnum": "metodist.planning.models.RoadmapStatus",
        "ActionStatusEnum": "metodist.planning.models.ActionStatus",
        "RecommendationStatusEnum": "metodist.planning.models.RecommendationStatus",
        "UploadStatusEnum": "metodist.collection.models.UploadStatus",
        "RunStatusEnum": "metodist.analysis.models.RunStatus",
        "OlympiadStatusEnum": "metodist.collection.models.OlympiadStatus",
        "ScoreStatusEnum": "metodist.collection.models.ScoreStatus",
        "EnrolmentStatusEnum": "metodist.assistance.models.EnrolmentStatus",
        "RequestStatusEnum": "metodist.assistance.models.RequestStatus",
        "RouteStatusEnum": "metodist.assistance.models.RouteStatus",
        "ItemStatusEnum": "metodist.assistance.models.ItemStatus",
        "MentoringStatusEnum": "metodist.assistance.models.MentoringStatus",
        "EvidenceScopeEnum": "metodist.practices.models.EvidenceScope",
        "EvidenceVerdictEnum": "metodist.practices.models.EvidenceVerdict",
        "PracticeStatusEnum": "metodist.practices.models.PracticeStatus",
    },
}
