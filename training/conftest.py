"""Collection of ``training/``'s doctests (pyproject's ``testpaths``).

The modules that import torch at the top (directly, or through :mod:`training.export`)
are left out when it is not installed: it comes with the optional ``train`` extra, and
the training tests skip without it too (``tests/training/conftest.py``).
"""

from __future__ import annotations

import importlib.util

NEED_TORCH = ["card.py", "export.py", "model.py", "train.py"]

collect_ignore = [] if importlib.util.find_spec("torch") else NEED_TORCH
