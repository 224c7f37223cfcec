"""``manage.py purge_images``: delete images older than ``IMAGE_RETENTION_DAYS``.

Rows go in small batches, each in its own short transaction, so the command can run
from cron while the server is busy (writers wait for a batch at most); each file is
deleted once its row's deletion commits (:mod:`resolver.signals`). Only committed
rows older than the cut-off are touched: an upload in flight has no committed row
and a timestamp of now. Two copies running at once (two hosts' crons) do no harm.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from resolver.models import Image


class Command(BaseCommand):
    help = "Delete images (rows and files) older than IMAGE_RETENTION_DAYS days."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--days", type=int, default=None, help="override IMAGE_RETENTION_DAYS (at least 1)"
        )
        parser.add_argument("--batch-size", type=int, default=200, help="rows per transaction")
        parser.add_argument("--dry-run", action="store_true", help="only count the images")

    def handle(self, *args, days: int | None, batch_size: int, dry_run: bool, **options):
        if days is None:
            days = settings.IMAGE_RETENTION_DAYS
            if not days:
                self.stdout.write("retention is off (IMAGE_RETENTION_DAYS unset): nothing purged")
                return
        if days < 1:
            raise CommandError("--days must be at least 1")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        cutoff = timezone.now() - timedelta(days=days)
        old = Image.objects.filter(timestamp__lt=cutoff)
        if dry_run:
            self.stdout.write(f"{old.count()} image(s) older than {days} day(s) found")
            return
        deleted = 0
        while batch := list(old.order_by("pk").values_list("pk", flat=True)[:batch_size]):
            with transaction.atomic():
                # Each row's file is deleted once this batch commits (signals.py).
                _, per_model = Image.objects.filter(pk__in=batch, timestamp__lt=cutoff).delete()
            deleted += per_model.get(Image._meta.label, 0)
        self.stdout.write(f"{deleted} image(s) older than {days} day(s) deleted")
