"""``python -m mathocr recognize IMAGE... [--json]``."""

import sys

from .cli import main

sys.exit(main())
