"""Delete an image's file once the deletion of its row is committed."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from .models import Image


@receiver(post_delete, sender=Image, dispatch_uid="resolver.image_file_cleanup")
def delete_image_file(sender, instance: Image, **kwargs) -> None:
    """Remove the stored file after the transaction that deleted the row commits."""
    storage, name = instance.image.storage, instance.image.name
    if not name:
        return
    transaction.on_commit(lambda: storage.delete(name))
