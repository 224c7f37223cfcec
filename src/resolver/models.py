"""One model: an uploaded image and what the recogniser read in it."""

from __future__ import annotations

from django.db import models


class Image(models.Model):
    """An image posted to ``/api/images/create/`` and its recognition result.

    Rows are written only by :func:`resolver.services.image_create`, which stores
    the file and the row together or neither, and corrected by
    :func:`resolver.services.image_correct`, which sets the ``corrected_*`` fields only.
    """

    class Status(models.TextChoices):
        SOLVED = "solved", "Solved"
        RECOGNIZED = "recognized", "Recognized (not computable)"
        UNREADABLE = "unreadable", "Unreadable"

    image = models.ImageField(upload_to="images/%Y/%m/%d/", max_length=255)
    timestamp = models.DateTimeField(auto_now_add=True, db_index=True)
    width = models.PositiveIntegerField(default=0, help_text="Image width in pixels.")
    height = models.PositiveIntegerField(default=0, help_text="Image height in pixels.")
    size = models.PositiveIntegerField(default=0, help_text="File size in bytes.")

    status = models.CharField(max_length=16, choices=Status.choices, db_index=True)
    expression = models.TextField(blank=True)
    latex = models.TextField(blank=True)
    # result, result_decimal and error are null where there is none, as the API answers
    # (DJ001 would store "": a change of the API's answers, and a migration).
    result = models.TextField(blank=True, null=True)  # noqa: DJ001
    result_decimal = models.TextField(blank=True, null=True)  # noqa: DJ001
    verdict = models.BooleanField(
        null=True, blank=True, help_text="For an equation a = b: whether it holds."
    )
    confidence = models.FloatField(default=0.0)
    symbols = models.JSONField(default=list, blank=True)
    computations = models.JSONField(default=list, blank=True)
    steps = models.JSONField(
        default=list, blank=True, help_text="The working, one operation a line, in LaTeX."
    )
    error = models.CharField(max_length=64, blank=True, null=True)  # noqa: DJ001 - see result
    message = models.TextField(blank=True)
    model_version = models.CharField(max_length=64, blank=True)
    processing_ms = models.FloatField(default=0.0, help_text="Recognition time in milliseconds.")
    edit_token_hash = models.CharField(
        max_length=64,
        blank=True,
        default="",
        editable=False,
        help_text="SHA-256 (hex) of the edit token given to the sender; empty: staff only.",
    )
    idempotency_key = models.CharField(
        max_length=64,
        null=True,
        blank=True,
        unique=True,
        editable=False,
        help_text="SHA-256 of the client's Idempotency-Key; unique: a retry stores once.",
    )
    content_sha256 = models.CharField(
        max_length=64, blank=True, default="", editable=False, help_text="SHA-256 of the file."
    )

    # A person's correction of the reading (services.image_correct); the fields above,
    # the machine's reading, are never overwritten.
    corrected_expression = models.TextField(
        blank=True,
        default="",
        help_text="What is written, per the sender (canonical ASCII); empty: none.",
    )
    corrected_symbols = models.JSONField(
        default=list,
        blank=True,
        help_text='Read symbols that became another: [{"index": i, "symbol": "7"}].',
    )
    corrected_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="When the last correction was made."
    )

    # Not stored: set on the instance that services.image_create() returns.
    #: The edit token in clear (``None``: it cannot be given again, SECRET_KEY changed).
    edit_token: str | None = None
    #: Whether the answer is an earlier request's (same Idempotency-Key), replayed.
    replayed: bool = False

    class Meta:
        ordering = ["-timestamp", "-pk"]
        verbose_name = "image"
        verbose_name_plural = "images"

    def __str__(self) -> str:
        return f"#{self.pk} {self.expression or self.status}"
