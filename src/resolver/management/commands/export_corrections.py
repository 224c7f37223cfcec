"""``manage.py export_corrections OUT``: the corrected images as training data.

Every image whose sender corrected its reading (``corrected_expression`` set) is
written with its truth, the corrected expression, and, for the symbols whose label
is known, a crop of the symbol with that label. ``training.extra.corrections`` reads
the folder as one more source. The format (also in the ``SOURCE.md`` it writes)::

    OUT/SOURCE.md           what it is, whose responsibility its use is, the counts
    OUT/expressions.jsonl   one line per corrected image, by pk:
                            {"pk", "file": "images/<pk>.<ext>", "width", "height",
                             "expression" (the corrected one, canonical ASCII),
                             "machine_expression", "model_version", "timestamp",
                             "corrected_at", "symbols": the machine's symbols as the
                             answer gives them, "corrected_symbols": [{"index", "symbol"}]}
    OUT/images/<pk>.<ext>   the stored file, as it was sent
    OUT/symbols.jsonl       one line per symbol crop:
                            {"file": "symbols/<pk>-<index>.png", "pk", "index",
                             "label" (a class of mathocr.symbols.CLASSES), "read" (the
                             machine's label), "changed" (true: the correction named it),
                             "box": [x, y, width, height]}
    OUT/symbols/<pk>-<index>.png   the box cut from the image: 8-bit grey, dark ink
                                   on light paper, EXIF orientation applied

A symbol is exported when the correction says what it is (``corrected_symbols``:
``changed``), and every other symbol of the image too when the machine's labels,
with those changes applied, spell the corrected expression (they are confirmed:
``changed`` false). An image whose file cannot be read is left out and counted.

``OUT`` must be empty or missing; ``--replace`` first removes what an earlier export
wrote there (the three files and the two folders), nothing else.
"""

from __future__ import annotations

import io
import json
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from PIL import Image as PILImage

from mathocr.cleanup import to_gray
from mathocr.compute import solve
from mathocr.decode import decode_image
from mathocr.errors import InvalidImage
from resolver.models import Image

#: What an export writes into ``OUT`` (``--replace`` removes exactly these).
WRITTEN = ("SOURCE.md", "expressions.jsonl", "symbols.jsonl", "images", "symbols")

SOURCE_TEXT = """\
# Corrected readings of MathOCR resolver

Exported by `manage.py export_corrections` on {date} from this deployment's database:
every image whose sender corrected the machine's reading through
`POST /api/images/<pk>/correction/`, with the corrected expression as its truth and,
where the sender (or the expression) says which symbol is what, a crop of each such
symbol with its label. `training.extra.corrections` reads this folder as the training
source `corrections` (`MATHOCR_CORRECTIONS`, or `<data>/extra/corrections/`).

## Use and licence

These are photos and drawings that the users of this deployment sent, and their
corrections. They are not part of the MathOCR project and not covered by its licence.
Whoever runs the deployment is responsible for having the right to keep them and to
train on them (the users' consent, the privacy notice they were shown, the law that
applies), for keeping them no longer than that allows (`IMAGE_RETENTION_DAYS` does not
reach this copy), and for not publishing them or a model trained on them without that
right. Rows deleted since the export are still here: export again to follow them.

## Format

- `expressions.jsonl`: one line per image, by `pk`: `file` (`images/<pk>.<ext>`, the
  stored file as sent), `width`, `height`, `expression` (the corrected expression,
  canonical ASCII), `machine_expression`, `model_version`, `timestamp`, `corrected_at`,
  `symbols` (the machine's symbols: `symbol`, `confidence`, `box` `[x, y, w, h]` in the
  image's pixels after its EXIF orientation, `alternatives`) and `corrected_symbols`
  (`[{{"index", "symbol"}}]`: which read symbol became what).
- `symbols.jsonl`: one line per crop: `file` (`symbols/<pk>-<index>.png`), `pk`,
  `index` (into the image's `symbols`), `label` (a class of `mathocr.symbols.CLASSES`;
  `reject`: no symbol), `read` (the machine's label), `changed` (true: the correction
  named this symbol; false: confirmed, because the machine's labels with the changes
  applied spell the corrected expression) and `box`.
- `symbols/<pk>-<index>.png`: the box cut from the image, 8-bit grey, dark ink on light
  paper.

Each image is its own writer; `training.extra` holds out about a fifth of them (by a
hash of the pk) as `test`.

## Counts

- images: {images}
- images left out (their file could not be read): {unreadable}
- symbol crops: {crops} ({changed} named by a correction, {confirmed} confirmed)

| label | crops |
|---|---:|
{table}
"""


@dataclass
class Counts:
    images: int = 0
    unreadable: int = 0
    changed: int = 0
    confirmed: int = 0
    labels: Counter[str] = field(default_factory=Counter)


class Command(BaseCommand):
    help = "Write the corrected images, their truth and labelled symbol crops to OUT."

    def add_arguments(self, parser) -> None:
        parser.add_argument("out", type=Path, help="folder to write (empty or missing)")
        parser.add_argument(
            "--replace", action="store_true", help="first remove an earlier export in OUT"
        )

    def handle(self, *args, out: Path, replace: bool, **options) -> None:
        _prepare(out, replace=replace)
        counts = Counts()
        with (
            (out / "expressions.jsonl").open("w", encoding="utf-8") as expressions,
            (out / "symbols.jsonl").open("w", encoding="utf-8") as symbols,
        ):
            for image in Image.objects.exclude(corrected_expression="").order_by("pk"):
                _export(image, out, expressions, symbols, counts)
        table = "\n".join(f"| `{label}` | {n} |" for label, n in sorted(counts.labels.items()))
        (out / "SOURCE.md").write_text(
            SOURCE_TEXT.format(
                date=timezone.now().date().isoformat(),
                images=counts.images,
                unreadable=counts.unreadable,
                crops=counts.changed + counts.confirmed,
                changed=counts.changed,
                confirmed=counts.confirmed,
                table=table or "| - | 0 |",
            ),
            encoding="utf-8",
        )
        self.stdout.write(
            f"{counts.images} corrected image(s), {counts.changed + counts.confirmed} symbol "
            f"crop(s) written to {out}"
            + (f"; {counts.unreadable} left out (file unreadable)" if counts.unreadable else "")
        )


def _prepare(out: Path, *, replace: bool) -> None:
    if out.exists() and not out.is_dir():
        raise CommandError(f"{out} is not a folder")
    present = sorted(p.name for p in out.iterdir()) if out.exists() else []
    if [name for name in present if not replace or name not in WRITTEN]:
        hint = "" if replace else " (--replace removes an earlier export)"
        raise CommandError(f"{out} is not empty{hint}: {', '.join(present[:5])}")
    for name in present:  # with --replace, only what an export writes
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "symbols").mkdir(exist_ok=True)


def _export(image: Image, out: Path, expressions, symbols, counts: Counts) -> None:
    try:
        with image.image.open("rb") as handle:
            data = handle.read()
        gray = to_gray(decode_image(data))
    except (OSError, ValueError, InvalidImage):
        counts.unreadable += 1
        return
    name = f"images/{image.pk}{Path(image.image.name or '').suffix or '.bin'}"
    (out / name).write_bytes(data)
    record = {
        "pk": image.pk,
        "file": name,
        "width": image.width,
        "height": image.height,
        "expression": image.corrected_expression,
        "machine_expression": image.expression,
        "model_version": image.model_version,
        "timestamp": image.timestamp.isoformat(),
        "corrected_at": image.corrected_at.isoformat() if image.corrected_at else None,
        "symbols": image.symbols,
        "corrected_symbols": image.corrected_symbols,
    }
    expressions.write(json.dumps(record, ensure_ascii=False) + "\n")
    counts.images += 1
    for crop in known_symbols(image):
        x, y, w, h = crop["box"]
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + w, gray.shape[1]), min(y + h, gray.shape[0])
        if x1 <= x0 or y1 <= y0:
            continue
        file = f"symbols/{image.pk}-{crop['index']}.png"
        buffer = io.BytesIO()
        PILImage.fromarray(gray[y0:y1, x0:x1]).save(buffer, "PNG")
        (out / file).write_bytes(buffer.getvalue())
        symbols.write(json.dumps({"file": file, "pk": image.pk, **crop}, ensure_ascii=False) + "\n")
        counts.labels[crop["label"]] += 1
        if crop["changed"]:
            counts.changed += 1
        else:
            counts.confirmed += 1


def known_symbols(image: Image) -> Iterator[dict[str, Any]]:
    """The symbols of ``image`` whose label its correction tells: ``index``, ``label``,
    ``read``, ``changed``, ``box`` (see the module docstring)."""
    read = [s for s in image.symbols or [] if isinstance(s, dict)]
    changes = {
        c["index"]: c["symbol"]
        for c in image.corrected_symbols or []
        if isinstance(c, dict) and isinstance(c.get("index"), int)
    }
    labels = [changes.get(i, str(s.get("symbol", ""))) for i, s in enumerate(read)]
    confirmed = bool(read) and solve(labels).expression == image.corrected_expression
    for i, symbol in enumerate(read):
        box = symbol.get("box")
        if (i in changes or confirmed) and isinstance(box, list) and len(box) == 4:
            yield {
                "index": i,
                "label": labels[i],
                "read": symbol.get("symbol"),
                "changed": i in changes,
                "box": [int(v) for v in box],
            }
