"""schemathesis against the real server: the answers match the OpenAPI schema.

A production server (``tests.support.liveserver.serve``, the real model) with an
administrator; schemathesis (test dependency) loads ``/api/schema/`` and runs its
examples, coverage and fuzzing phases with every check, at most 50 examples per
operation, a fixed seed, as the administrator (HTTP Basic: list, detail, delete and
correction are reached too; its "no auth" probes go without). One check is off for two
operations: ``positive_data_acceptance`` on create, because a schema cannot say
"these base64 characters decode to a PNG", and on correction, because it cannot say
"an expression of the grammar" or "an index below the number of symbols read":
schema-valid strings are refused (400) as they should be. Any other failure, or any 5xx,
fails the test.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.support.liveserver import ROOT, serve, server_env

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 50
SEED = 1
CONFIG = """\
[checks]
enabled = true

[[operations]]
include-name = "POST /api/images/create/"
checks.positive_data_acceptance.enabled = false

[[operations]]
include-name = "POST /api/images/{id}/correction/"
checks.positive_data_acceptance.enabled = false
"""


def schemathesis_command() -> Path:
    command = Path(sys.executable).parent / "schemathesis"
    if not command.exists():
        pytest.skip("schemathesis is not installed (test extra)")
    return command


def test_schemathesis_finds_no_failures_and_no_server_errors(tmp_path):
    command = schemathesis_command()
    password = secrets.token_urlsafe(12)
    # schemathesis sends wrong credentials on purpose: keep the lockout out of its way.
    env = {"LOGIN_FAILURE_LIMIT": "0"}
    with serve(tmp_path / "server", workers=2, env=env) as base_url:
        admin = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "createsuperuser", "--noinput"],
            cwd=ROOT,
            env={
                **server_env(tmp_path / "server", env),
                "DJANGO_SUPERUSER_USERNAME": "admin",
                "DJANGO_SUPERUSER_PASSWORD": password,
                "DJANGO_SUPERUSER_EMAIL": "admin@example.org",
            },
            capture_output=True,
            text=True,
            check=False,
        )
        assert admin.returncode == 0, admin.stderr
        config = tmp_path / "schemathesis.toml"
        config.write_text(CONFIG)
        reports = tmp_path / "reports"
        arguments = ["--config-file", str(config), "--no-color", "run",
                     f"{base_url}api/schema/?format=json",
                     "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED),
                     "--auth", f"admin:{password}", "--request-timeout", "60",
                     "--report", "json,har", "--report-dir", str(reports)]  # fmt: skip
        proc = subprocess.run(
            [str(command), *arguments],
            cwd=tmp_path,  # its cache (.schemathesis/) goes there, not into the checkout
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    report = json.loads(next(reports.glob("json-*.json")).read_text())
    entries = json.loads(next(reports.glob("har-*.json")).read_text())["log"]["entries"]
    statuses = Counter(entry["response"]["status"] for entry in entries)
    print(
        f"\nschemathesis {report['schemathesis_version']}: {report['test_cases']['generated']} "
        f"test cases, {len(entries)} requests in {report['running_time']:.0f} s over "
        f"{report['operations']['tested']} operations; failures {len(report['failures'])}, "
        f"errors {len(report['errors'])}; statuses {dict(sorted(statuses.items()))}"
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert report["failures"] == []
    assert report["errors"] == []
    assert not [status for status in statuses if status >= 500]
    assert report["operations"]["tested"] == 6
