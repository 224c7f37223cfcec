"""Handwriting from writers outside CROHME (``<data>/extra``), read straight from the archives.

Loaders for Classifier 2.0. Each returns a new list of frozen samples: :class:`InkSample`
(online pen strokes) or :class:`BitmapSample` (an isolated-symbol ink mask). Every label is
one of :data:`CLASSES`; a symbol that looks like one of our classes but is none of them is
left out (see the label tables below). Nothing is unpacked to disk; each source is parsed
once per process and root (later calls return a fresh list of the same, read-only, samples).

Sources (folder under ``<data>/extra``; licence from its ``SOURCE.md``):

``unipen`` (``unipen-1a-1d/unipen-1a-1d-samples.jsonl.gz``)
    UNIPEN train_r01_v07, categories 1a (isolated digits) and 1d (isolated ASCII symbols):
    31,654 samples by 282 writers from ~17 institutions, 1992-99. CC BY 4.0 (Zenodo); the
    1999 CD-ROM asks for research use only, no commercial distribution, and a citation
    (Guyon et al., ICPR 1994). Writer ids ``"unipen:<inst>/<WRITER_ID>"``. Coordinates:
    x is tablet units, y is rescaled by ``points_per_mm`` x/y so that both axes share x's
    unit (only ``aga`` is non-square) and negated (UNIPEN's y points up). Segment quality
    is ``"?"`` (unrated) or ``"OK"`` for every sample (no segment in 1a/1d is ``"BAD"``),
    so all are kept; but a ``.`` or ``,`` taller or wider than the median height of its
    writer's digits and brackets (:data:`UNIPEN_MAX_DOT`; 70 samples, mostly mis-cut
    segments of a few far-apart points) is left out. Split: a writer is
    ``"test"`` when the first byte of the SHA-1 of its id is below 0.2 * 256 (about 20 %
    of the writers), else ``"train"``.
``pendigits`` (``pendigits-orig/pendigits-orig.{tra,tes}.gz``)
    UCI pen-based digits, original trajectories (WACOM tablet units, 0..~500 per box, y
    negated): 10,992 digits by 44 writers. CC BY 4.0 (Alpaydin & Alimoglu, UCI 81). The
    30 writers of ``.tra`` are ``"train"`` (ids ``"pendigits:tra/1"``..``/30``), the 14
    other writers of ``.tes`` are ``"test"`` (``"pendigits:tes/1"``..``/14``).
``mathwriting`` (``mathwriting-symbols/mathwriting-2024-symbols.tar.xz``)
    Google MathWriting 2024, ``symbols`` split: 6,423 isolated symbols in 229 LaTeX
    classes (~30 each) as InkML, screen coordinates with y down. CC BY-NC-SA 4.0
    (non-commercial; Gervais et al., arXiv:2404.10690). No writer ids (writer ``""``);
    all ``"train"`` (the caller holds the whole source out to evaluate on it).
``detypify`` (``detypify-data/detypify-data-dataset.tar.xz``)
    Symbols drawn by users of the Detypify web app (2024): 1,357 samples in 467 Typst
    symbol classes, integer canvas points, y down. MIT. No writer ids; all ``"train"``.
``mnist-train`` (``mnist-train/mnist-train-{images,labels}-idx*-ubyte.gz``)
    The MNIST training set, 60,000 28x28 grey digits (white on black) by ~250 writers,
    disjoint from the t10k writers. CC BY-SA 3.0. Writer ``""``; all ``"train"`` (the
    t10k files in ``<data>`` are the test set, loaded by :mod:`training.sources`).
    Ink is grey > 127.
``usps`` (``usps/zip.{train,test}.gz``)
    USPS zip-code digits, 16x16 grey in [-1, 1] (+1 = ink), deslanted and size-normalised:
    7,291 in ``zip.train`` (``"train"``), 2,007 in ``zip.test`` (``"test"``). No licence
    stated (research data from AT&T via the ESL book); credit it. Writer ``""``. Ink is
    grey > 0.
``semeion`` (``semeion/semeion.data.gz``)
    Semeion digits, 16x16 binary (1 = ink), 1,593 by ~80 writers. CC BY 4.0. No writer
    ids (writer ``""``); all ``"train"``.
``optdigits`` (``optdigits-orig/optdigits-orig.{tra,cv,windep}.gz``)
    UCI optdigits, 32x32 binary NIST bitmaps (1 = ink), size-normalised to fill the box:
    1,934 ``tra`` + 946 ``cv`` by 30 writers (``"train"``), 1,797 ``windep`` by 13 other
    writers (``"test"``, per ``optdigits-orig.names``). CC BY 4.0. No per-sample writer
    ids (writer ``""``).

``corrections`` (``$MATHOCR_CORRECTIONS``, else ``<data>/extra/corrections``)
    What this service's users corrected: the folder ``manage.py export_corrections`` writes
    (format in its ``SOURCE.md``). The symbol crops of ``symbols.jsonl`` (8-bit grey photos
    of one symbol, dark ink on light paper), each with the label the correction gives it;
    ink is darker than Otsu's threshold of the crop (a crop of less contrast than
    :data:`CORRECTIONS_MIN_CONTRAST` has none and is left out). Licence: the deployment's
    (its ``SOURCE.md``). Each image is its own writer (``"corrections:<pk>"``); a writer is
    ``"test"`` when the first byte of the SHA-1 of its id is below 0.2 * 256 (about 20 %),
    else ``"train"``.

Bitmap masks are uint8 (255 = ink, 0 = paper) at the source's own resolution, cropped to
the ink box with no margin; a bitmap without ink is left out.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import os
import re
import tarfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from mathocr.symbols import CLASSES

from . import crohme

CLASS_SET = frozenset(CLASSES)
REJECT = "reject"


@dataclass(frozen=True, slots=True)
class InkSample:
    """Online pen data: strokes (each (n, 2) float64, x right, y down, source units), class."""

    strokes: tuple[np.ndarray, ...]
    label: str
    writer: str
    source: str
    split: str = "train"


@dataclass(frozen=True, slots=True)
class BitmapSample:
    """An isolated-symbol bitmap: uint8 mask (255 = ink) cropped to its ink box."""

    mask: np.ndarray
    label: str
    writer: str
    source: str
    split: str = "train"


# --- label tables ------------------------------------------------------------------

#: Labels (ASCII of UNIPEN, LaTeX of MathWriting) taught as one of our classes under
#: another name. As in :data:`training.sources.CROHME_ALIASES`, a comma is a decimal point
#: and the letter ``x`` is drawn as the same cross as ``\times``.
LABEL_ALIASES: dict[str, str] = {
    ",": ".", "x": "×", r"\times": "×", r"\div": "÷",
    r"\le": "≤", r"\leq": "≤", r"\ge": "≥", r"\geq": "≥", r"\ne": "≠", r"\neq": "≠",
    r"\lt": "<", r"\gt": ">", r"\lbrack": "[", r"\rbrack": "]",
}  # fmt: skip

#: LaTeX escapes of plain characters (``\#`` is ``#``), undone before the tables apply.
LATEX_ESCAPES: dict[str, str] = {
    r"\#": "#", r"\%": "%", r"\&": "&", r"\$": "$", r"\_": "_", r"\{": "{", r"\}": "}",
}  # fmt: skip

#: Letters that look like one of our classes (``o``/``0``, ``l I``/``1``, ``X``/``×``,
#: ``t``/``+``, ``s S``/``5``, ``z Z``/``2``, ``b``/``6``, ``g q``/``9``, ``B``/``8``,
#: ``G``/``6``, ``c C``/``(``): left out, as in :data:`training.sources.CROHME_SKIP`.
LOOKALIKE_LETTERS = frozenset("oOlIXtsSzZbgqBGcC")

#: Labels that look like one of our classes but are none of them: left out (a ``·``
#: is a multiplication dot only by its position, which the reader decides; ``*`` is
#: skipped too). Everything else that is no class of ours becomes ``reject``.
LABEL_SKIP = frozenset(
    LOOKALIKE_LETTERS
    | {
        # ASCII look-alikes
        "*", "|", "{", "}", "'", "`", "~", ":", ";", "!", "^", "_", "\\", "·",
        # dots, primes, bars and accents (look like . - / 1)
        r"\cdot", r"\bullet", r"\circ", r"\dot", r"\ldots", r"\cdots", r"\vdots",
        r"\prime", r"\|", r"\backslash", r"\frac", r"\overline", r"\underline",
        r"\hat", r"\tilde", r"\sim", r"\neg",
        # brackets and relations shaped like ( ) [ ] < > = ≤ ≥ ≠
        r"\langle", r"\rangle", r"\lfloor", r"\rfloor", r"\lceil", r"\rceil",
        r"\subset", r"\supset", r"\subseteq", r"\supseteq", r"\subsetneq", r"\angle",
        r"\ll", r"\gg", r"\simeq", r"\approx", r"\equiv", r"\cong",
        # Greek and others shaped like a class or a skipped letter
        r"\iota", r"\chi", r"\Xi", r"\Lambda", r"\wedge", r"\bigwedge", r"\emptyset",
        r"\partial", r"\dagger", r"\varsigma", r"\zeta", r"\delta",
    }
)  # fmt: skip

_MATHBB = re.compile(r"\\mathbb\{(.)\}")


def label_class(label: str) -> str | None:
    """Our class name for a UNIPEN / MathWriting label; ``None`` when it is left out.

    >>> label_class("7"), label_class(","), label_class(r"\\times"), label_class("a")
    ('7', '.', '×', 'reject')
    >>> label_class(r"\\cdot") is None, label_class("o") is None
    (True, True)
    """
    label = LATEX_ESCAPES.get(label, label)
    label = LABEL_ALIASES.get(label, label)
    if label in CLASS_SET and label != REJECT:
        return label
    if label in LABEL_SKIP or label in CLASS_SET:
        return None
    if m := _MATHBB.fullmatch(label):  # a double-struck letter: as the letter (and I as 1)
        return None if m.group(1) in LOOKALIKE_LETTERS | {"I"} else REJECT
    return REJECT


#: Detypify (Typst symbol names) classes that are ours. ``gt.eq.slant`` is ``⩾``, a
#: ``≥`` with a slanted bar as many people write it; ``slash.big`` a plain ``/``.
DETYPIFY_LABELS: dict[str, str] = {
    "plus": "+", "minus": "-", "hyph.minus": "-", "hyph": "-", "slash.big": "/",
    "paren.l": "(", "paren.r": ")", "bracket.l": "[", "lt": "<",
    "lt.eq": "≤", "gt.eq.slant": "≥", "eq.not": "≠",
}  # fmt: skip
#: Detypify classes left out: look-alikes of ours (``beth`` is drawn like a ``2``,
#: ``alef`` like an ``X``, ``dalet`` like a ``7``), ``dot.basic`` (junk) and ``comma``
#: (5 samples drawn canvas-high like a ``)`` or ``/``, one a ``9``-like scribble).
DETYPIFY_SKIP = frozenset(
    {
        "dot.basic", "not", "caret", "hat", "backslash", "backslash.circle", "semi", "ratio",
        "parallel", "wreath", "compose", "because", "maltese", "dagger", "star.op",
        "slash.triple", "excl.double", "acute.double", "diaer", "iota", "chi", "Chi",
        "Lambda", "Xi", "Beta", "dotless.i", "diff", "II", "OO", "ZZ", "minus.dot",
        "minus.tilde", "times.div", "times.l", "times.r", "times.three.l",
        "times.three.r", "times.triangle", "comma", "rect.stroked.v", "ohm.inv", "alef",
        "beth", "gimel", "gimmel", "dalet", "daleth", "delta", "zeta",
    }
)  # fmt: skip
#: Name prefixes of Detypify classes left out: relations built on ``< > =`` (``gt.*``,
#: ``lt.*``, ``eq.*``, ``prec``, ``succ``, ``tilde``, ``approx``, ``equiv``, angles),
#: subsets (``⊂`` like ``(``), dots and circles (like ``.``), asterisks, quotes and
#: primes, dashes and bars (like ``-`` and ``1``), harpoons (a ``↿`` is a ``1``), ellipses
#: (like ``0``), other brackets and fences.
DETYPIFY_SKIP_PREFIXES: tuple[str, ...] = (
    "gt.", "lt.", "eq.", "prec", "succ", "angle", "tilde", "approx", "equiv", "subset",
    "supset", "dot", "circle.", "ast.", "quote.", "prime", "colon", "dash.", "hyph.",
    "bar.", "bracket.", "brace.", "paren.", "fence", "turtle.", "divides", "emptyset",
    "nothing", "diameter", "and.", "harpoon", "ellipse",
)  # fmt: skip
#: Detypify classes taught as ``reject`` although a prefix above matches them.
DETYPIFY_REJECT = frozenset({"ast.circle", "quote.double", "quote.l.double", "dash.circle"})


def detypify_class(name: str) -> str | None:
    """Our class name for a Detypify (Typst) symbol name; ``None`` when it is left out.

    Filled shapes (``*filled*``: blobs like a bold point) are left out too.
    """
    if name in DETYPIFY_LABELS:
        return DETYPIFY_LABELS[name]
    if name in DETYPIFY_REJECT:
        return REJECT
    if name in DETYPIFY_SKIP or name.startswith(DETYPIFY_SKIP_PREFIXES) or "filled" in name:
        return None
    return REJECT


# --- files ---------------------------------------------------------------------------

UNIPEN_JSONL = "unipen-1a-1d/unipen-1a-1d-samples.jsonl.gz"
PENDIGITS = {"train": "pendigits-orig/pendigits-orig.tra.gz",
             "test": "pendigits-orig/pendigits-orig.tes.gz"}  # fmt: skip
MATHWRITING = "mathwriting-symbols/mathwriting-2024-symbols.tar.xz"
DETYPIFY = "detypify-data/detypify-data-dataset.tar.xz"
MNIST_TRAIN = ("mnist-train/mnist-train-images-idx3-ubyte.gz",
               "mnist-train/mnist-train-labels-idx1-ubyte.gz")  # fmt: skip
USPS = {"train": "usps/zip.train.gz", "test": "usps/zip.test.gz"}
SEMEION = "semeion/semeion.data.gz"
OPTDIGITS = {"tra": "optdigits-orig/optdigits-orig.tra.gz",
             "cv": "optdigits-orig/optdigits-orig.cv.gz",
             "windep": "optdigits-orig/optdigits-orig.windep.gz"}  # fmt: skip
OPTDIGITS_SPLIT = {"tra": "train", "cv": "train", "windep": "test"}

#: Files (relative to ``<data>/extra``) each source needs.
FILES: dict[str, tuple[str, ...]] = {
    "unipen": (UNIPEN_JSONL,),
    "pendigits": tuple(PENDIGITS.values()),
    "mathwriting": (MATHWRITING,),
    "detypify": (DETYPIFY,),
    "mnist-train": MNIST_TRAIN,
    "usps": tuple(USPS.values()),
    "semeion": (SEMEION,),
    "optdigits": tuple(OPTDIGITS.values()),
}

#: Share of UNIPEN writers held out as ``"test"``.
UNIPEN_TEST_SHARE = 0.2
#: Environment variable naming the folder of the ``corrections`` source.
CORRECTIONS_ENV = "MATHOCR_CORRECTIONS"
#: The index of the ``corrections`` folder (``manage.py export_corrections``).
CORRECTIONS_INDEX = "symbols.jsonl"
#: Share of the corrected images held out as ``"test"``.
CORRECTIONS_TEST_SHARE = 0.2
#: Least grey-level range (0-255) of a correction crop that holds any ink.
CORRECTIONS_MIN_CONTRAST = 40


def _extra(root: Path | None) -> Path:
    return (root or crohme.data_dir()).resolve() / "extra"


def corrections_dir(root: Path | None = None) -> Path:
    """The ``corrections`` folder: ``$MATHOCR_CORRECTIONS``, else ``<data>/extra/corrections``."""
    named = os.environ.get(CORRECTIONS_ENV)
    return Path(named).expanduser().resolve() if named else _extra(root) / "corrections"


def available(root: Path | None = None) -> dict[str, bool]:
    """For every source (in :data:`SOURCES` order), whether all its files exist."""
    extra = _extra(root)
    found = {name: all((extra / f).is_file() for f in files) for name, files in FILES.items()}
    found["corrections"] = (corrections_dir(root) / CORRECTIONS_INDEX).is_file()
    return found


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _ink(strokes: Iterable, label: str, writer: str, source: str, split: str) -> InkSample | None:
    """An :class:`InkSample` of the non-empty strokes, ``None`` when there is none."""
    arrays = []
    for st in strokes:
        a = np.asarray(st, np.float64).reshape(-1, 2)
        if len(a) and np.isfinite(a).all():
            arrays.append(_frozen(a))
    return InkSample(tuple(arrays), label, writer, source, split) if arrays else None


def _bitmap(ink: np.ndarray, label: str, source: str, split: str) -> BitmapSample | None:
    """A :class:`BitmapSample` of a boolean ink image cropped to its ink; ``None`` if blank."""
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not rows.size:
        return None
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    mask = np.ascontiguousarray(np.where(crop, 255, 0).astype(np.uint8))
    return BitmapSample(_frozen(mask), label, "", source, split)


# --- online sources ----------------------------------------------------------------------


def unipen_split(writer: str) -> str:
    """``"test"`` for about :data:`UNIPEN_TEST_SHARE` of the writer ids (stable hash)."""
    first = hashlib.sha1(writer.encode(), usedforsecurity=False).digest()[0]
    return "test" if first < UNIPEN_TEST_SHARE * 256 else "train"


#: UNIPEN labels whose height stands for a writer's symbol size (for :data:`UNIPEN_MAX_DOT`).
UNIPEN_TALL = frozenset("0123456789()[]/<>?")
#: A UNIPEN ``.`` or ``,`` whose larger side exceeds this many times its writer's median
#: height of :data:`UNIPEN_TALL` symbols is left out: 70 of 1,958 (mostly ``apb``, ``ibm``,
#: ``cea``), mis-cut segments of a few far-apart points (a real point is 0.1-0.3 of it).
UNIPEN_MAX_DOT = 1.0


@cache
def _unipen(extra: Path) -> tuple[InkSample, ...]:
    rows = []
    tall: dict[str, list[float]] = {}
    with gzip.open(extra / UNIPEN_JSONL, "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            label = label_class(d["label"])
            if label is None and d["label"] not in UNIPEN_TALL:
                continue
            px, py = d.get("points_per_mm") or (1.0, 1.0)
            flip = np.array([1.0, -px / py])
            writer = f"unipen:{d['writer']}"
            strokes = [np.asarray(st, np.float64).reshape(-1, 2) * flip for st in d["strokes"]]
            sample = _ink(strokes, label or REJECT, writer, "unipen", unipen_split(writer))
            if sample is None:
                continue
            if d["label"] in UNIPEN_TALL:
                height = np.ptp(np.concatenate(sample.strokes)[:, 1])
                tall.setdefault(writer, []).append(float(height))
            if label is not None:
                rows.append(sample)
    typical = {w: float(np.median(h)) for w, h in tall.items()}
    out = []
    for sample in rows:
        if sample.label == "." and sample.writer in typical:
            size = float(np.ptp(np.concatenate(sample.strokes), axis=0).max())
            if size > UNIPEN_MAX_DOT * typical[sample.writer]:
                continue
        out.append(sample)
    return tuple(out)


def unipen(root: Path | None = None) -> list[InkSample]:
    """UNIPEN 1a digits and 1d symbols (see the module docstring)."""
    return list(_unipen(_extra(root)))


def _pendigits_file(lines: Iterator[str], part: str) -> Iterator[InkSample]:
    """Parse one UNIPEN-like pendigits file (``part`` is ``tra`` or ``tes``)."""
    split = "train" if part == "tra" else "test"
    label = writer = None
    strokes: list[list[tuple[float, float]]] = []
    pen_down = False

    def flush() -> InkSample | None:
        if label is None:
            return None
        return _ink(strokes, label, f"pendigits:{part}/{writer}", "pendigits", split)

    for line in lines:
        if line.startswith(".SEGMENT"):
            if (sample := flush()) is not None:
                yield sample
            label, writer, strokes, pen_down = line.rsplit('"', 2)[-2], None, [], False
        elif line.startswith(".COMMENT"):
            writer = line.split()[2]
        elif line.startswith(".PEN_DOWN"):
            strokes.append([])
            pen_down = True
        elif line.startswith(".PEN_UP"):
            pen_down = False
        elif pen_down and (values := line.split()):
            strokes[-1].append((float(values[0]), -float(values[1])))
    if (sample := flush()) is not None:
        yield sample


@cache
def _pendigits(extra: Path) -> tuple[InkSample, ...]:
    out = []
    for part, name in (("tra", PENDIGITS["train"]), ("tes", PENDIGITS["test"])):
        with gzip.open(extra / name, "rt", encoding="latin-1") as f:
            out.extend(_pendigits_file(iter(f), part))
    return tuple(out)


def pendigits(root: Path | None = None) -> list[InkSample]:
    """UCI pendigits original trajectories: ``.tra`` writers train, ``.tes`` writers test."""
    return list(_pendigits(_extra(root)))


_INKML = "{http://www.w3.org/2003/InkML}"


@cache
def _mathwriting(extra: Path) -> tuple[InkSample, ...]:
    out = []
    with tarfile.open(extra / MATHWRITING) as tar:
        for member in tar:
            if not (member.isfile() and member.name.endswith(".inkml")):
                continue
            handle = tar.extractfile(member)
            if handle is None:
                continue
            root = ET.fromstring(handle.read())  # noqa: S314 - the data set's own archive
            notes = {
                a.get("type"): (a.text or "").strip() for a in root.iter(_INKML + "annotation")
            }
            label = label_class(notes.get("label", ""))
            if label is None:
                continue
            strokes = [
                [[float(v) for v in p.split()[:2]] for p in (t.text or "").split(",") if p.strip()]
                for t in root.iter(_INKML + "trace")
            ]
            sample = _ink(strokes, label, notes.get("writer", ""), "mathwriting", "train")
            if sample is not None:
                out.append(sample)
    return tuple(out)


def mathwriting(root: Path | None = None) -> list[InkSample]:
    """MathWriting 2024 isolated symbols (all ``"train"``, writer ``""``)."""
    return list(_mathwriting(_extra(root)))


@cache
def _detypify(extra: Path) -> tuple[InkSample, ...]:
    out = []
    with tarfile.open(extra / DETYPIFY) as tar:
        for member in tar:
            if not (member.isfile() and member.name.endswith(".txt")):
                continue
            label = detypify_class(member.name.rsplit("/", 1)[-1].removesuffix(".txt"))
            handle = tar.extractfile(member)
            if label is None or handle is None:
                continue
            for line in handle.read().decode("utf-8").splitlines():
                if line.strip():
                    sample = _ink(json.loads(line), label, "", "detypify", "train")
                    if sample is not None:
                        out.append(sample)
    return tuple(out)


def detypify(root: Path | None = None) -> list[InkSample]:
    """Detypify user-drawn symbols (all ``"train"``, writer ``""``)."""
    return list(_detypify(_extra(root)))


# --- bitmap sources -------------------------------------------------------------------------


@cache
def _mnist_train(extra: Path) -> tuple[BitmapSample, ...]:
    with gzip.open(extra / MNIST_TRAIN[0]) as f:
        data = f.read()
    n, rows, cols = np.frombuffer(data, ">u4", count=4)[1:]
    images = np.frombuffer(data, np.uint8, offset=16).reshape(int(n), int(rows), int(cols))
    with gzip.open(extra / MNIST_TRAIN[1]) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    out = (
        _bitmap(img > 127, str(lab), "mnist-train", "train")
        for img, lab in zip(images, labels, strict=True)
    )
    return tuple(s for s in out if s is not None)


def mnist_train(root: Path | None = None) -> list[BitmapSample]:
    """MNIST training digits (all ``"train"``)."""
    return list(_mnist_train(_extra(root)))


@cache
def _usps(extra: Path) -> tuple[BitmapSample, ...]:
    out = []
    for split, name in USPS.items():
        with gzip.open(extra / name, "rt", encoding="ascii") as f:
            for line in f:
                values = np.array(line.split(), np.float64)
                if len(values) != 257:
                    continue
                sample = _bitmap(values[1:].reshape(16, 16) > 0, str(int(values[0])), "usps", split)
                if sample is not None:
                    out.append(sample)
    return tuple(out)


def usps(root: Path | None = None) -> list[BitmapSample]:
    """USPS digits: ``zip.train`` train, ``zip.test`` test."""
    return list(_usps(_extra(root)))


@cache
def _semeion(extra: Path) -> tuple[BitmapSample, ...]:
    out = []
    with gzip.open(extra / SEMEION, "rt", encoding="ascii") as f:
        for line in f:
            values = np.array(line.split(), np.float64)
            if len(values) != 266:
                continue
            label = str(int(np.argmax(values[256:])))
            sample = _bitmap(values[:256].reshape(16, 16) > 0.5, label, "semeion", "train")
            if sample is not None:
                out.append(sample)
    return tuple(out)


def semeion(root: Path | None = None) -> list[BitmapSample]:
    """Semeion digits (all ``"train"``)."""
    return list(_semeion(_extra(root)))


@cache
def _optdigits(extra: Path) -> tuple[BitmapSample, ...]:
    out = []
    for part, name in OPTDIGITS.items():
        with gzip.open(extra / name, "rt", encoding="ascii") as f:
            lines = [line.strip() for line in f]
        rows: list[str] = []
        for line in lines:
            if len(line) == 32 and set(line) <= {"0", "1"}:
                rows.append(line)
            elif rows and line.isdigit():
                if len(rows) == 32:
                    bits = np.frombuffer("".join(rows).encode(), np.uint8).reshape(32, 32)
                    ink = bits == ord("1")
                    sample = _bitmap(ink, line, "optdigits", OPTDIGITS_SPLIT[part])
                    if sample is not None:
                        out.append(sample)
                rows = []
    return tuple(out)


def optdigits(root: Path | None = None) -> list[BitmapSample]:
    """UCI optdigits 32x32 bitmaps: ``tra``/``cv`` train, ``windep`` (other writers) test."""
    return list(_optdigits(_extra(root)))


def corrections_split(writer: str) -> str:
    """``"test"`` for about :data:`CORRECTIONS_TEST_SHARE` of the images (stable hash).

    >>> [corrections_split(f"corrections:{pk}") for pk in (4, 5, 6)]
    ['train', 'test', 'train']
    """
    first = hashlib.sha1(writer.encode(), usedforsecurity=False).digest()[0]
    return "test" if first < CORRECTIONS_TEST_SHARE * 256 else "train"


def correction_mask(gray: np.ndarray) -> np.ndarray | None:
    """The ink of a grey crop (dark on light): below Otsu's threshold; ``None`` if faint.

    >>> crop = np.full((6, 5), 230, np.uint8)
    >>> crop[1:5, 2] = 20
    >>> ink = correction_mask(crop)
    >>> int(ink.sum()), bool(ink[1:5, 2].all())
    (4, True)
    >>> correction_mask(np.full((4, 4), 200, np.uint8)) is None
    True
    """
    import cv2

    if gray.size == 0 or int(gray.max()) - int(gray.min()) < CORRECTIONS_MIN_CONTRAST:
        return None
    threshold, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return gray <= threshold


def corrections(root: Path | None = None) -> list[BitmapSample]:
    """The symbol crops of this service's corrected readings (see the module docstring).

    Read afresh on every call (the folder is re-exported as users correct more).
    """
    import cv2

    folder = corrections_dir(root)
    out = []
    with (folder / CORRECTIONS_INDEX).open(encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            row = json.loads(line)
            label = row.get("label")
            if label not in CLASS_SET:
                continue
            gray = cv2.imread(str(folder / row["file"]), cv2.IMREAD_GRAYSCALE)
            ink = correction_mask(gray) if gray is not None else None
            if ink is None:
                continue
            writer = f"corrections:{row['pk']}"
            sample = _bitmap(ink, label, "corrections", corrections_split(writer))
            if sample is not None:
                out.append(dataclasses.replace(sample, writer=writer))
    return out


#: Source name -> loader.
SOURCES: dict[str, Callable[..., list]] = {
    "unipen": unipen,
    "pendigits": pendigits,
    "mathwriting": mathwriting,
    "detypify": detypify,
    "mnist-train": mnist_train,
    "usps": usps,
    "semeion": semeion,
    "optdigits": optdigits,
    "corrections": corrections,
}
