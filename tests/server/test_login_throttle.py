"""Guessing passwords (issue 13, item 5): failed logins lock the client out for a while.

The admin login, the browsable API's login (``/api-auth/login/``) and HTTP Basic on
the admin-only image endpoints count failures per client IP address in the
database (so every gunicorn worker sees them); ``LOGIN_FAILURE_LIMIT`` failures lock
the client out for ``LOGIN_COOLOFF_MINUTES``, the right password included.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from tests.support.liveserver import serve, server_env

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "password"  # pytest-django's admin_user
LIMIT = 10  # the default LOGIN_FAILURE_LIMIT
COOLOFF_SECONDS = 15 * 60  # the default LOGIN_COOLOFF_MINUTES


@pytest.fixture(autouse=True)
def _fast_password_hashes(settings) -> None:
    """Dozens of logins per test: a fast hasher (before ``admin_user`` is created)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def basic(password: str, username: str = "admin") -> dict:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}", "HTTP_ACCEPT": "application/json"}


def admin_login(client: Client, password: str, **extra):
    return client.post("/admin/login/", {"username": "admin", "password": password}, **extra)


def api_auth_login(client: Client, password: str, **extra):
    return client.post("/api-auth/login/", {"username": "admin", "password": password}, **extra)


def api_auth_login_as(client: Client, username: str, password: str):
    return client.post("/api-auth/login/", {"username": username, "password": password})


def basic_list(client: Client, password: str, **extra):
    return client.get("/api/images/", **basic(password), **extra)


def logged_in(kind: str, response) -> bool:
    if kind == "basic":
        return response.status_code == 200
    return response.status_code == 302 and "login" not in response["Location"]


SURFACES = {"admin": admin_login, "api-auth": api_auth_login, "basic": basic_list}


def test_defaults_are_ten_failures_and_fifteen_minutes():
    assert django_settings.AXES_FAILURE_LIMIT == LIMIT
    assert django_settings.AXES_COOLOFF_TIME.total_seconds() == COOLOFF_SECONDS
    assert django_settings.AXES_HANDLER == "axes.handlers.database.AxesDatabaseHandler"


@pytest.mark.parametrize("kind", list(SURFACES))
def test_right_password_works_after_a_few_failures(client, admin_user, kind):
    attempt = SURFACES[kind]
    for _ in range(LIMIT - 1):
        assert not logged_in(kind, attempt(client, "wrong"))
    assert logged_in(kind, attempt(client, PASSWORD))


@pytest.mark.parametrize("kind", list(SURFACES))
def test_too_many_failures_lock_the_client_out_right_password_included(client, admin_user, kind):
    attempt = SURFACES[kind]
    answers = [attempt(client, "wrong").status_code for _ in range(LIMIT + 5)]
    assert answers[-1] == 429, answers
    assert 429 not in answers[: LIMIT - 1]  # before the limit: the usual answers
    response = attempt(client, PASSWORD)
    assert response.status_code == 429
    assert not logged_in(kind, response)


def test_basic_auth_lockout_is_a_json_429_with_retry_after(client, admin_user):
    for _ in range(LIMIT):
        basic_list(client, "wrong")
    response = basic_list(client, PASSWORD)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "locked_out"
    assert "15 minutes" in body["detail"]
    assert int(response["Retry-After"]) == COOLOFF_SECONDS


@pytest.mark.parametrize(("first", "then"), [("admin", "basic"), ("basic", "admin")])
def test_lockout_covers_every_login_of_the_client(client, admin_user, first, then):
    for _ in range(LIMIT):
        SURFACES[first](client, "wrong")
    response = SURFACES[then](client, PASSWORD)
    assert response.status_code == 429


def test_another_accounts_login_does_not_wipe_the_count(client, admin_user, django_user_model):
    """Logging in with any account of one's own must not reset the failures counted
    for the client's address, or guessing could go on between two such logins."""
    django_user_model.objects.create_user("mallory", password="her-own-passw0rd")
    for _ in range(LIMIT - 1):
        admin_login(client, "wrong")
    mallory = Client()
    assert logged_in("api-auth", api_auth_login_as(mallory, "mallory", "her-own-passw0rd"))
    assert admin_login(client, "wrong").status_code == 429


def test_other_clients_are_not_locked_out(client, admin_user):
    for _ in range(LIMIT):
        basic_list(client, "wrong", REMOTE_ADDR="10.0.0.66")
    assert basic_list(client, PASSWORD, REMOTE_ADDR="10.0.0.66").status_code == 429
    assert basic_list(client, PASSWORD, REMOTE_ADDR="10.0.0.7").status_code == 200


def test_client_ip_behind_a_proxy_comes_from_x_forwarded_for(client, admin_user, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for _ in range(LIMIT):
        basic_list(client, "wrong", HTTP_X_FORWARDED_FOR="203.0.113.9", **proxy)
    locked = basic_list(client, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.9", **proxy)
    other = basic_list(client, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.4", **proxy)
    assert (locked.status_code, other.status_code) == (429, 200)


def test_lockout_ends_after_the_cool_off(client, admin_user):
    from axes.models import AccessAttempt

    for _ in range(LIMIT):
        basic_list(client, "wrong")
    assert basic_list(client, PASSWORD).status_code == 429
    earlier = timezone.now() - timedelta(seconds=COOLOFF_SECONDS + 1)
    AccessAttempt.objects.update(attempt_time=earlier)
    assert basic_list(client, PASSWORD).status_code == 200


def _settings_in_subprocess(**env: str) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.AXES_ENABLED, s.AXES_FAILURE_LIMIT, "
        "s.AXES_COOLOFF_TIME.total_seconds()]))"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LOGIN_")}
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "digits_operators_recognizer.settings",
            "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
            "ENV_FILE": "/nonexistent/.env",
            "DATABASE_URL": "sqlite:///:memory:",
            **env,
        }
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, [True, 10, 900.0]),
        ({"LOGIN_FAILURE_LIMIT": "5", "LOGIN_COOLOFF_MINUTES": "60"}, [True, 5, 3600.0]),
        ({"LOGIN_COOLOFF_MINUTES": "0.5"}, [True, 10, 30.0]),
        ({"LOGIN_FAILURE_LIMIT": "0"}, [False, 0, 900.0]),
    ],
)
def test_limits_come_from_the_environment(env, expected):
    assert _settings_in_subprocess(**env) == expected


# --- across gunicorn workers -----------------------------------------------------------


@pytest.fixture(scope="module")
def live_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("logins")
    env = {"LOGIN_FAILURE_LIMIT": "4"}
    with serve(folder, workers=2, env=env) as url:
        code = (
            "from django.contrib.auth import get_user_model; "
            "get_user_model().objects.create_superuser('admin', 'a@example.org', 'password')"
        )
        environment = server_env(folder, env)
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "shell", "-c", code],
            env=environment,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        yield url


def live_get(url: str, password: str) -> int:
    token = base64.b64encode(f"admin:{password}".encode()).decode()
    request = urllib.request.Request(
        url, headers={"Authorization": f"Basic {token}", "Connection": "close"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.slow
def test_lockout_holds_across_gunicorn_workers(live_url):
    """Each request on a new connection, to either of two workers: the count is shared."""
    url = live_url + "api/images/"
    assert live_get(url, PASSWORD) == 200
    answers = [live_get(url, "wrong") for _ in range(8)]
    assert answers[:3] == [401, 401, 401], answers
    assert set(answers[3:]) == {429}, answers
    assert live_get(url, PASSWORD) == 429
