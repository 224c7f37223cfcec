"""Django settings, read from the environment (12-factor) with django-environ.

Every setting that differs between machines comes from an environment variable
(or a ``.env`` file in the working directory); ``.env.example`` lists them all.
Defaults are safe for production: ``DEBUG`` is off and, with ``DEBUG`` off, the
WSGI application refuses to start without a real ``SECRET_KEY``
(``scripts/serve`` generates one on first run).
"""

from __future__ import annotations

import importlib
import math
import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from corsheaders.defaults import default_headers as default_cors_headers
from django.core.exceptions import ImproperlyConfigured

import mathocr
from mathocr.notation import COMMA_CONVENTIONS

#: Repository root (``src/digits_operators_recognizer/settings.py`` -> ``../..``).
BASE_DIR = Path(__file__).resolve().parents[2]


def require_driver(setting: str, extra: str, *packages: str) -> None:
    """Refuse ``setting`` at start-up unless each of ``packages`` imports.

    ``"a|b"`` takes either (Django's PostgreSQL backend runs on psycopg or psycopg2). The
    drivers of PostgreSQL, Redis and S3 are optional extras of the project
    (``scripts/serve`` installs them all). Without this check a missing driver shows up
    only later, and differently: Django's error on the first query, throttling silently
    off (its counters let requests through when the cache fails), an upload's 500.
    """
    for package in packages:
        names = package.split("|")
        for name in names:
            try:
                importlib.import_module(name)
            except ImportError:
                continue
            break
        else:
            raise ImproperlyConfigured(
                f"{setting} needs the {names[0]} package, which is not installed: "
                f"pip install 'mathocr-resolver[{extra}]' (scripts/serve installs it)."
            )


env = environ.Env()
_env_file = Path(os.environ.get("ENV_FILE", Path.cwd() / ".env"))
if _env_file.is_file():
    environ.Env.read_env(_env_file, overwrite=False)

#: Placeholder key used when SECRET_KEY is unset. Fine for DEBUG and tests; the WSGI
#: application and ``manage.py check --deploy`` refuse it in production.
INSECURE_SECRET_KEY = "django-insecure-mathocr-development-key-do-not-use-in-production"  # noqa: S105

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default=INSECURE_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "resolver.apps.ResolverConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Above whitenoise, so that static files get the header too.
    "resolver.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a login refused for too many failures into its lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "digits_operators_recognizer.urls"
WSGI_APPLICATION = "digits_operators_recognizer.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- database -------------------------------------------------------------------
# SQLite file by default; PostgreSQL with DATABASE_URL=postgres://user:pass@host:5432/name.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    _sqlite_name = str(DATABASES["default"]["NAME"])
    if _sqlite_name not in ("", ":memory:") and not _sqlite_name.startswith("file:"):
        Path(_sqlite_name).parent.mkdir(parents=True, exist_ok=True)
    # Several gunicorn workers write to one file: WAL lets readers run beside the writer,
    # IMMEDIATE transactions queue writers instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
elif "postg" in DATABASES["default"]["ENGINE"]:  # postgresql, postgis
    require_driver("DATABASE_URL=postgres://...", "postgres", "psycopg|psycopg2")
# Each worker thread keeps its connection between requests (SQLite too: opening one runs
# the PRAGMAs, closing the last one checkpoints the WAL; together about a fifth of a
# request's time, benchmarks/server_profile.py).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Per process by default. Several workers or hosts share throttling counters through
# Redis: CACHE_URL=redis://host:6379/0 (optionally ?key_prefix=mathocr).
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
# django-environ leaves ?key_prefix= / ?timeout= under lower-case keys, which Django ignores.
for _option in ("key_prefix", "timeout", "version", "key_function"):
    if _option in CACHES["default"]:
        CACHES["default"][_option.upper()] = CACHES["default"].pop(_option)
if "redis" in CACHES["default"]["BACKEND"].lower():
    require_driver("CACHE_URL=redis://...", "redis", "redis")

# --- failed logins (django-axes) -------------------------------------------------
# The admin login, /api-auth/login/ and HTTP Basic on GET /api/images/ all count
# failures per client IP address, in the database, so that every gunicorn worker sees
# them; at LOGIN_FAILURE_LIMIT the client is refused (429), right password included,
# until LOGIN_COOLOFF_MINUTES have passed since its last failure.
# ``manage.py axes_reset`` (or the admin's "Access attempts") lifts a lockout.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out client
    "django.contrib.auth.backends.ModelBackend",
]
#: Failed logins from one client before it is locked out; 0 turns the lockout off.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
#: How long a locked-out client waits, in minutes after its last failure.
LOGIN_COOLOFF_MINUTES = env.float("LOGIN_COOLOFF_MINUTES", default=15)
if LOGIN_COOLOFF_MINUTES <= 0:
    raise ImproperlyConfigured("LOGIN_COOLOFF_MINUTES must be above 0.")
AXES_ENABLED = LOGIN_FAILURE_LIMIT > 0
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_COOLOFF_MINUTES)
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
#: The client's address as the API's throttles see it (``NUM_PROXIES``).
AXES_CLIENT_IP_CALLABLE = "resolver.api.client_ip"
#: A successful login keeps the failures counted (with ``True``, logging in with any
#: account of one's own would reset the address's count between guesses).
AXES_RESET_ON_SUCCESS = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- static files (whitenoise) and uploaded media ------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
#: Serve MEDIA_ROOT from the application itself (no separate web server needed).
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=True)


def media_storage(values: Mapping[str, str]) -> dict:
    """``STORAGES["default"]`` from the environment: ``MEDIA_ROOT`` or an S3 bucket.

    ``STORAGE_BACKEND=s3`` (or ``AWS_STORAGE_BUCKET_NAME`` set) selects django-storages'
    S3 backend: a private bucket (no ACL is set on objects), files served by presigned
    URLs valid ``AWS_QUERYSTRING_EXPIRE`` seconds. ``AWS_S3_ENDPOINT_URL`` points at an
    S3-compatible server (MinIO, Ceph, ...); keys and region come from ``AWS_*`` or,
    unset, from boto3's own chain (instance role, ``~/.aws``).
    """
    bucket = values.get("AWS_STORAGE_BUCKET_NAME", "").strip()
    backend = values.get("STORAGE_BACKEND", "").strip().lower() or (
        "s3" if bucket else "filesystem"
    )
    if backend == "filesystem":
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    if backend != "s3":
        raise ImproperlyConfigured(f"STORAGE_BACKEND must be filesystem or s3, not {backend!r}.")
    if not bucket:
        raise ImproperlyConfigured("STORAGE_BACKEND=s3 needs AWS_STORAGE_BUCKET_NAME.")
    require_driver("STORAGE_BACKEND=s3", "s3", "storages", "boto3")
    options = {
        "bucket_name": bucket,
        "location": values.get("AWS_LOCATION", "").strip("/"),
        "default_acl": None,  # objects stay private: only presigned URLs read them
        "querystring_auth": True,
        "querystring_expire": int(values.get("AWS_QUERYSTRING_EXPIRE") or 3600),
        "signature_version": "s3v4",
        "file_overwrite": True,  # names are random: no existence check per upload
    }
    for option, variable in (
        ("endpoint_url", "AWS_S3_ENDPOINT_URL"),
        ("region_name", "AWS_S3_REGION_NAME"),
        ("access_key", "AWS_ACCESS_KEY_ID"),
        ("secret_key", "AWS_SECRET_ACCESS_KEY"),
        ("addressing_style", "AWS_S3_ADDRESSING_STYLE"),
    ):
        if values.get(variable, "").strip():
            options[option] = values[variable].strip()
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


STORAGES = {
    # Uploaded images: MEDIA_ROOT, or an S3 bucket shared by every host (see media_storage).
    "default": media_storage(os.environ),
    "staticfiles": {
        # Hashed, compressed, cached forever; needs ``collectstatic`` (scripts/serve runs it).
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage",
        ),
    },
}
FILE_UPLOAD_PERMISSIONS = 0o644
#: Days an image (row and file) is kept; ``manage.py purge_images`` (run it from cron)
#: deletes older ones. Unset, empty or 0: kept until deleted.
IMAGE_RETENTION_DAYS = int(env.str("IMAGE_RETENTION_DAYS", default="").strip() or 0) or None
if IMAGE_RETENTION_DAYS is not None and IMAGE_RETENTION_DAYS < 0:
    raise ImproperlyConfigured("IMAGE_RETENTION_DAYS must be 0 (off) or a number of days.")
#: Hours a create's ``Idempotency-Key`` is remembered: a retry within it gets the first answer.
IDEMPOTENCY_KEY_HOURS = env.float("IDEMPOTENCY_KEY_HOURS", default=24)

# --- recognition limits ------------------------------------------------------------
#: Largest accepted image, in bytes after base64 decoding.
IMAGE_MAX_BYTES = env.int("IMAGE_MAX_BYTES", default=10 * 1024 * 1024)
#: Largest accepted image, in pixels (width x height), checked from the header before
#: decoding: protects against decompression bombs.
IMAGE_MAX_PIXELS = env.int("IMAGE_MAX_PIXELS", default=40_000_000)
#: Largest request body: the image in base64 (4/3 of its bytes) plus room for the rest.
REQUEST_MAX_BYTES = math.ceil(IMAGE_MAX_BYTES * 4 / 3) + 64 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_MAX_BYTES
#: Uploaded files above this go to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
#: ONNX model file for the recognizer; empty: the model shipped inside mathocr. The
#: same variable the core reads (:data:`mathocr.classify.MODEL_ENV`).
MATHOCR_MODEL = env.str("MATHOCR_MODEL", default="") or None
if "MATHOCR_MODEL_PATH" in os.environ:
    raise ImproperlyConfigured("MATHOCR_MODEL_PATH was renamed MATHOCR_MODEL: set that instead.")
#: The second reader, a model that reads the whole line (``mathocr.line_model``): on by
#: default; off, the lattice reader answers alone (smaller and faster workers).
MATHOCR_LINE_READER = env.bool("MATHOCR_LINE_READER", default=True)
#: Its ONNX file; empty: the one shipped inside mathocr. The same variable the core
#: reads (:data:`mathocr.line_model.LINE_MODEL_ENV`).
MATHOCR_LINE_MODEL = env.str("MATHOCR_LINE_MODEL", default="") or None
#: onnxruntime and OpenCV threads per process (gunicorn runs one process per core).
MATHOCR_THREADS = env.int("MATHOCR_THREADS", default=1)
#: Seconds one recognition may take before the request is answered 503
#: ``recognition_timeout`` (every stage's work is bounded anyway; this is the last guard).
MATHOCR_TIME_LIMIT = env.float("MATHOCR_TIME_LIMIT", default=3.0)
# What a comma between digits means unless a request says: "decimal" (1,5) or
# "thousands" (1,000, the English convention).
MATHOCR_COMMA = env.str("MATHOCR_COMMA", default="decimal")
if MATHOCR_COMMA not in COMMA_CONVENTIONS:
    raise ImproperlyConfigured(f"MATHOCR_COMMA must be one of {COMMA_CONVENTIONS}.")
#: Load the model when a worker starts instead of on the first request.
MATHOCR_WARM_UP = env.bool("MATHOCR_WARM_UP", default=True)

# --- REST framework ---------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Basic first, so that an anonymous request to an admin-only endpoint gets
        # 401 with a WWW-Authenticate challenge; a logged-in non-admin gets 403.
        "rest_framework.authentication.BasicAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
        "resolver.renderers.BrowsableAPIHTMLRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        # DRF's, hardened: bounded JSON nesting, multipart parts with non-UTF-8 headers.
        "resolver.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "resolver.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "resolver.pagination.ImagePagination",
    "PAGE_SIZE": env.int("API_PAGE_SIZE", default=20),
    "DEFAULT_THROTTLE_CLASSES": [
        "resolver.throttling.AnonThrottle",
        "resolver.throttling.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        # Per client: per worker process with the default cache, shared by every worker
        # and host with CACHE_URL=redis://... (resolver.throttling counts atomically).
        "anon": env.str("ANON_THROTTLE_RATE", default="6000/min") or None,
        "user": env.str("USER_THROTTLE_RATE", default="12000/min") or None,
    },
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "EXCEPTION_HANDLER": "resolver.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "MathOCR resolver API",
    "DESCRIPTION": (
        "Post a photo of handwritten arithmetic (e.g. `12 + 7 × 3 =`) as base64 and get the "
        "expression, its LaTeX, the exact result and every symbol with its box and confidence."
    ),
    "VERSION": mathocr.__version__,
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # The documentation pages work offline: their scripts come from the sidecar package
    # and Redoc uses system fonts, not Google Fonts (its page, resolver/redoc.html, also
    # keeps Redoc's badge off cdn.redoc.ly; tests/e2e/test_security_policy.py).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "REDOC_UI_SETTINGS": {
        "theme": {
            "typography": {
                "fontFamily": "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
                "headings": {"fontFamily": "system-ui, -apple-system, 'Segoe UI', sans-serif"},
                "code": {"fontFamily": "ui-monospace, Menlo, Consolas, monospace"},
            },
        },
    },
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["resolver.schema.exclude_format_suffixes"],
}

# --- CORS (the mobile app / web clients on other origins) ---------------------------
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_ALL_ORIGINS = env.bool("CORS_ALLOW_ALL_ORIGINS", default=False)
CORS_URLS_REGEX = r"^/api/.*$"
# django-cors-headers' defaults plus the API's own request headers; clients may read
# whether a create was a replay.
CORS_ALLOW_HEADERS = (*default_cors_headers, "idempotency-key", "x-edit-token")
CORS_EXPOSE_HEADERS = ["Idempotent-Replayed", "Retry-After"]

# --- security ---------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_HTTPS_PROXY", default=False) else None
)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
# Only when every subdomain is served over HTTPS, and (preload) when the domain is to be
# submitted to the browsers' preload list; the production profile in the README sets both.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)


def _media_sources(storage: dict) -> list[str]:
    """Where stored images are served from, besides this origin (the S3 endpoint)."""
    if not storage["BACKEND"].endswith("S3Storage"):
        return []
    endpoint = storage["OPTIONS"].get("endpoint_url")
    if not endpoint:
        return ["https://*.amazonaws.com"]
    parts = urlsplit(endpoint)
    return [f"{parts.scheme}://{parts.netloc}"]


#: Extra image sources of the Content-Security-Policy (resolver.security).
CSP_MEDIA_SOURCES = _media_sources(STORAGES["default"])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}
