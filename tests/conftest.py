"""Shared test configuration.

``DJANGO_SETTINGS_MODULE`` is set in ``pyproject.toml``; tests that do not touch
Django or the database run without it costing anything. The repository root is
put on ``sys.path`` so that ``training`` and ``tests.support`` import.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: pyproject's ``--doctest-modules`` imports every module it collects to look for
#: examples. The tests' helpers have none; and a second import of a folder's
#: ``conftest.py`` (all named ``conftest``: the folders are not packages) can find
#: another folder's in ``sys.modules`` and fail the collection.
collect_ignore_glob = ["conftest.py", "*/conftest.py", "support/*.py", "core/drawing.py"]
