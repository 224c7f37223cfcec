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
