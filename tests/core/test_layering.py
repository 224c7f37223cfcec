"""The recognition core is a plain package: it never imports Django or torch."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import mathocr

CORE = Path(mathocr.__file__).parent
FORBIDDEN = ("django", "rest_framework", "torch", "resolver", "digits_operators_recognizer")


def test_core_sources_import_no_django_or_torch():
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_importing_and_using_the_core_loads_no_django_or_torch():
    code = (
        "import json, sys\n"
        "import mathocr.cli, mathocr.recognizer, mathocr.read, mathocr.compute\n"
        "mathocr.compute.solve(['1', '+', '2'])\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(out.stdout) == []


def test_the_cores_doctests_pass_and_load_no_django_or_torch():
    """The docstrings' examples (pytest collects them too) need neither, either."""
    code = (
        "import doctest, importlib, json, pkgutil, sys\n"
        "import mathocr\n"
        "names = [m.name for m in pkgutil.walk_packages(mathocr.__path__, 'mathocr.')]\n"
        "names.remove('mathocr.__main__')  # runs the command line\n"
        "modules = [mathocr, *map(importlib.import_module, names)]\n"
        "runs = [doctest.testmod(m) for m in modules]\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in FORBIDDEN)\n"
        "print(json.dumps([sum(r.attempted for r in runs), sum(r.failed for r in runs), loaded]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", f"FORBIDDEN = {FORBIDDEN!r}\n{code}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    attempted, failed, loaded = json.loads(out.stdout.splitlines()[-1])
    assert failed == 0, out.stdout
    assert attempted > 0
    assert loaded == []
