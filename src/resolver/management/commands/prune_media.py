"""``manage.py prune_media``: delete stored image files that no row refers to.

:func:`resolver.services.image_create` never leaves such files behind by
itself, but a worker killed between writing the file and committing the row
(or a caller's outer transaction rolled back) can.

An upload in flight has its file written *before* its row commits (inside the
transaction that inserts the row), so a young file without a row may be one that is
about to get its row. Files younger than ``--min-age`` minutes are kept, and
``--min-age`` cannot go below :data:`MIN_AGE_FLOOR_MINUTES`, far above the longest
a request can hold a written file uncommitted (recognition is cut off at
``MATHOCR_TIME_LIMIT``, the insert waits at most the database's lock timeout, and
gunicorn's worker timeout, 60 s by default, ends any request that takes longer).
Works with any storage (local folder or S3 bucket).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError

from resolver.models import Image
from resolver.storage import stored_files

#: Smallest ``--min-age``: no request can hold a written, uncommitted file this long.
MIN_AGE_FLOOR_MINUTES = 10


class Command(BaseCommand):
    help = "Delete files under images/ in the media storage that no Image row refers to."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--min-age",
            type=float,
            default=60.0,
            help=(
                "keep files younger than this, in minutes (default 60, at least "
                f"{MIN_AGE_FLOOR_MINUTES}: younger files may belong to uploads in flight)"
            ),
        )
        parser.add_argument("--dry-run", action="store_true", help="only list the files")

    def handle(self, *args, min_age: float, dry_run: bool, **options) -> None:
        if not min_age >= MIN_AGE_FLOOR_MINUTES:
            raise CommandError(
                f"--min-age must be at least {MIN_AGE_FLOOR_MINUTES} minutes: younger files "
                "may belong to uploads in flight, whose rows are not committed yet."
            )
        cutoff = datetime.now(UTC) - timedelta(minutes=min_age)
        # Files first, rows second: a file old enough to be listed cannot be in flight,
        # and a row committed meanwhile is still seen.
        candidates = [name for name, modified in stored_files(default_storage, "images/")
                      if modified < cutoff]  # fmt: skip
        if not candidates:
            self.stdout.write(f"0 orphaned file(s) {'found' if dry_run else 'deleted'}")
            return
        referenced = set(Image.objects.values_list("image", flat=True))
        orphans = [name for name in candidates if name not in referenced]
        for name in orphans:
            if not dry_run:
                default_storage.delete(name)
            self.stdout.write(f"{'would delete' if dry_run else 'deleted'} {name}")
        self.stdout.write(f"{len(orphans)} orphaned file(s) {'found' if dry_run else 'deleted'}")
