"""Configuration: throttling, secret key refusal, environment parsing, gunicorn config."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from rest_framework.settings import api_settings

from tests.support.images import data_url, expression_image

ROOT = Path(__file__).resolve().parents[2]
URL = "/api/images/create/"


def rate_per_second(rate: str) -> float:
    count, period = rate.split("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]
    return int(count) / seconds


def test_anonymous_throttle_is_on_and_generous_by_default():
    rates = api_settings.DEFAULT_THROTTLE_RATES
    assert (
        "resolver.throttling.AnonThrottle"
        in django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]
    )
    assert rates["anon"] == "6000/min"
    assert rate_per_second(rates["anon"]) >= 50


@pytest.mark.django_db
def test_sixty_quick_requests_from_one_client_are_not_throttled(api_client):
    payload = {"image": data_url(expression_image("png", size=(60, 20)))}
    codes = {api_client.post(URL, payload, format="json").status_code for _ in range(60)}
    assert codes == {201}


@pytest.mark.django_db
def test_throttle_rate_is_enforced_per_client(api_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/min", "user": "3/min"},
    }
    body = {"image": "not base64!"}  # throttling happens before validation
    codes = [api_client.post(URL, body, format="json").status_code for _ in range(4)]
    assert codes == [400, 400, 400, 429]
    response = api_client.post(URL, body, format="json")
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) > 0
    other = api_client.post(URL, body, format="json", REMOTE_ADDR="10.0.0.2")
    assert other.status_code == 400


def test_health_is_never_throttled():
    from resolver.api import HealthApi

    assert HealthApi.throttle_classes == ()


def _run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "DATABASE_URL")
    }
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "digits_operators_recognizer.settings",
            "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
            "ENV_FILE": "/nonexistent/.env",
            "DATABASE_URL": "sqlite:///:memory:",
            **env,
        }
    )
    return subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, cwd=ROOT
    )


def test_wsgi_refuses_the_default_secret_key_in_production():
    proc = _run_python("import digits_operators_recognizer.wsgi", DEBUG="false")
    assert proc.returncode != 0
    assert "SECRET_KEY" in proc.stderr
    assert "ImproperlyConfigured" in proc.stderr


def test_wsgi_starts_with_a_real_secret_key():
    proc = _run_python(
        "import digits_operators_recognizer.wsgi", DEBUG="false", SECRET_KEY="x" * 60
    )
    assert proc.returncode == 0, proc.stderr


def test_wsgi_allows_the_development_key_in_debug():
    proc = _run_python("import digits_operators_recognizer.wsgi", DEBUG="true")
    assert proc.returncode == 0, proc.stderr


def test_mathocr_model_names_the_model_file(tmp_path):
    model = tmp_path / "symbols.onnx"
    proc = _run_python(
        "import django; django.setup(); from django.conf import settings;"
        "print(settings.MATHOCR_MODEL)",
        DEBUG="true",
        MATHOCR_MODEL=str(model),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(model)


def test_the_old_model_variable_is_refused_with_its_new_name():
    proc = _run_python(
        "import django; django.setup()", DEBUG="true", MATHOCR_MODEL_PATH="/srv/symbols.onnx"
    )
    assert proc.returncode != 0
    assert "ImproperlyConfigured" in proc.stderr
    assert "MATHOCR_MODEL_PATH was renamed MATHOCR_MODEL" in proc.stderr


def test_deploy_check_reports_the_default_key():
    proc = _run_python(
        "import django; django.setup();"
        "from django.core.management import call_command; call_command('check', '--deploy')",
        DEBUG="false",
    )
    assert "resolver.E001" in proc.stderr


def test_environment_configures_limits_database_and_cors():
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.IMAGE_MAX_BYTES, s.IMAGE_MAX_PIXELS, s.DATA_UPLOAD_MAX_MEMORY_SIZE,"
        " s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'],"
        " s.CORS_ALLOWED_ORIGINS, s.ALLOWED_HOSTS, s.DEBUG, s.SERVE_MEDIA)"
    )
    proc = _run_python(
        code,
        IMAGE_MAX_BYTES="1000",
        IMAGE_MAX_PIXELS="5000",
        DATABASE_URL="postgres://u:p@db.example:5432/mathocr",
        CORS_ALLOWED_ORIGINS="https://app.example,http://localhost:4200",
        ALLOWED_HOSTS="api.example",
        SERVE_MEDIA="off",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [
        "1000",
        "5000",
        str(1334 + 64 * 1024),
        "django.db.backends.postgresql",
        "mathocr",
        "['https://app.example',",
        "'http://localhost:4200']",
        "['api.example']",
        "False",
        "False",
    ]


@pytest.mark.parametrize(
    ("variables", "drivers", "extra"),
    [
        ({"DATABASE_URL": "postgres://u:p@db.example:5432/m"}, ["psycopg", "psycopg2"], "postgres"),
        ({"CACHE_URL": "redis://127.0.0.1:6379/0"}, ["redis"], "redis"),
        ({"STORAGE_BACKEND": "s3", "AWS_STORAGE_BUCKET_NAME": "b"}, ["storages"], "s3"),
        ({"AWS_STORAGE_BUCKET_NAME": "b"}, ["boto3"], "s3"),
    ],
    ids=["postgres", "redis", "s3", "s3-boto3"],
)
def test_a_backend_whose_driver_is_missing_is_refused_naming_the_extra(variables, drivers, extra):
    # None in sys.modules: importing the driver raises ImportError, as when not installed.
    code = (
        f"import sys; sys.modules.update(dict.fromkeys({drivers!r})); import django; django.setup()"
    )
    proc = _run_python(code, **variables)
    assert proc.returncode != 0
    assert "ImproperlyConfigured" in proc.stderr
    assert f"pip install 'mathocr-resolver[{extra}]'" in proc.stderr


def test_defaults_are_safe():
    code = (
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.DEBUG, s.IMAGE_MAX_BYTES, s.ALLOWED_HOSTS, s.CORS_ALLOWED_ORIGINS,"
        " s.CORS_ALLOW_ALL_ORIGINS)"
    )
    environment = {"DATABASE_URL": "sqlite:///:memory:"}
    proc = _run_python(code, **environment)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ("False 10485760 ['localhost', '127.0.0.1', '[::1]'] [] False")


def test_gunicorn_config_runs_several_workers_and_warms_the_model():
    from digits_operators_recognizer import gunicorn_conf

    assert gunicorn_conf.workers >= 2
    assert gunicorn_conf.wsgi_app == "digits_operators_recognizer.wsgi:application"
    assert callable(gunicorn_conf.post_worker_init)
