"""``manage.py prune_media``: delete stored image files that no row refers to.

:func:`resolver.services.image_create` never leaves such files behind by
itself, but a worker killed between writing the file and committing the row
(or a caller's outer transaction rolled back) can. Files younger than
``--min-age`` minutes are kept, so uploads in flight are never touched.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from resolver.models import Image


class Command(BaseCommand):
    help = "Delete files under MEDIA_ROOT/images/ that no Image row refers to."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--min-age", type=float, default=60.0, help="keep files younger than this (minutes)"
        )
        parser.add_argument("--dry-run", action="store_true", help="only list the files")

    def handle(self, *args, min_age: float, dry_run: bool, **options) -> None:
        root = Path(settings.MEDIA_ROOT)
        folder = root / "images"
        if not folder.is_dir():
            self.stdout.write("no images folder: nothing to prune")
            return
        referenced = set(Image.objects.values_list("image", flat=True))
        cutoff = time.time() - 60.0 * min_age
        orphans = [
            path
            for path in sorted(folder.rglob("*"))
            if path.is_file()
            and path.relative_to(root).as_posix() not in referenced
            and path.stat().st_mtime < cutoff
        ]
        for path in orphans:
            if not dry_run:
                path.unlink(missing_ok=True)
            self.stdout.write(f"{'would delete' if dry_run else 'deleted'} {path}")
        self.stdout.write(f"{len(orphans)} orphaned file(s) {'found' if dry_run else 'deleted'}")
