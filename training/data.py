"""The classifier's training set: every source's training part, and how often each is drawn.

Every sample the network sees is the output of :func:`mathocr.normalize.normalize_input`,
called with a mask and a ``ref_height`` like the segmenter produces, so training goes
*through* the serving contract.

Sources (all under :func:`training.crohme.data_dir`, never unpacked):

* CROHME 2016 training inks: each symbol is kept as pen strokes and drawn afresh for
  every sample (pen width, scale, aspect, slant, rotation vary). ``ref_height`` is the
  expression's typical symbol height in rendered pixels, as the segmenter measures it:
  the median height of the expression's non-flat symbols.
* Online inks of other writers (:mod:`training.extra`: UNIPEN, pendigits, MathWriting,
  detypify): isolated symbols drawn by the same renderer and augmentation, placed on an
  imagined line by a plausible relative size per class
  (:data:`training.samples.RELATIVE_SIZE`).
* BHMSDS (28x28 black on white), MDAS (28x28 white on black) and the bitmaps of
  :mod:`training.extra` (MNIST training set, USPS, Semeion, optdigits, and the symbols of
  this service's corrected readings, ``corrections``): isolated symbols,
  thresholded to a mask, with a plausible ``ref_height`` drawn per class (digits about
  their own height, ``+ × ÷`` smaller, ``-`` thin, dots small).
* Junk pairs (:func:`training.sources.junk_pairs`): two touching or overlapping CROHME
  neighbours drawn as one mark, taught as ``reject`` like LeCun et al. (1998)'s "junk",
  since the reader's lattice offers such unions as candidate symbols.
* Synthetic rejects: scribbles, ink blots and dust.

Writers listed in ``training/dev_writers.txt`` are never used for training, nor are the
held-out writers of the other sources (their ``split`` is ``test``) or MNIST t10k:
:mod:`training.heldout` evaluates on them. :mod:`training.sources` reads the archives,
:mod:`training.samples` turns an item into a classifier input.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mathocr.normalize import normalize_input
from mathocr.symbols import CLASS_INDEX, CLASSES, INPUT_CHANNELS, INPUT_SIZE

from . import crohme, extra
from .samples import image_sample, ink_sample, synthetic_reject
from .sources import (
    REJECT,
    ImageItem,
    InkItem,
    at_origin,
    bhmsds_items,
    ink_items,
    junk_pairs,
    mdas_items,
)

#: Within a class, each source's share grows with this weight times the square root
#: of its count: the real writers' inks of CROHME count most, as they look most like
#: what the segmenter cuts out of a line; the other writers widen the styles. Model
#: 2.0.0's: CROHME 3.5 (2.0 drowned its points and flagged ones among isolated digits,
#: candidate 2.0.0) and junk pairs 1.5 (3.0 sent real symbols drawn oddly to reject,
#: candidate 2.0.0d); ``training/audits/`` has both.
SOURCE_WEIGHTS = {
    "crohme": 3.5, "unipen": 1.2, "pendigits": 0.6, "mathwriting": 1.0, "detypify": 0.5,
    "mnist-train": 1.0, "usps": 0.5, "semeion": 0.3, "optdigits": 0.4,
    "bhmsds": 0.6, "mdas": 0.6, "corrections": 2.0, "pairs": 1.5,
}  # fmt: skip


@dataclass
class TrainingSet:
    """All training sources in memory, and how often each item is drawn."""

    ink: list[InkItem]
    images: list[ImageItem]
    reject_share: float = 0.18
    synthetic_share: float = 0.25
    #: Source name -> weight (:data:`SOURCE_WEIGHTS` by default; 1.0 for a source not named).
    weights: Mapping[str, float] = field(default_factory=lambda: dict(SOURCE_WEIGHTS))
    probs: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        keys = [(it.label, it.source) for it in self.ink] + [
            (it.label, it.source) for it in self.images
        ]
        probs = np.zeros(len(keys), np.float64)
        counts = Counter(label for label, _ in keys)
        # class mass grows slowly with its count, so rare classes are seen often
        mass = {c: n**0.35 for c, n in counts.items()}
        total = sum(v for c, v in mass.items() if c != REJECT)
        mass = {c: v / total * (1 - self.reject_share) for c, v in mass.items()}
        mass[REJECT] = self.reject_share * (1 - self.synthetic_share)
        by_key = Counter(keys)
        share = {key: self.weights.get(key[1], 1.0) * np.sqrt(n) for key, n in by_key.items()}
        class_share = Counter()
        for (label, _), v in share.items():
            class_share[label] += v
        index = {key: i for i, key in enumerate(by_key)}
        per_item = np.array([mass[k[0]] * share[k] / class_share[k[0]] / by_key[k] for k in by_key])
        probs = per_item[[index[k] for k in keys]]
        self.probs = probs / probs.sum() * (1 - self.reject_share * self.synthetic_share)

    @classmethod
    def load(
        cls,
        root: Path | None = None,
        *,
        exclude: Sequence[str] = (),
        weights: Mapping[str, float] | None = None,
    ) -> TrainingSet:
        """Read every source's training part once (about a minute), leaving out ``exclude``.

        ``exclude`` names sources (``"mathwriting"``, ...) to hold out whole, for a
        leave-one-source-out evaluation. ``weights`` changes some sources' weights
        (the others keep :data:`SOURCE_WEIGHTS`).
        """
        root = root or crohme.data_dir()
        images = []  # an excluded source's archive is not read (nor needed)
        for name, items in (("bhmsds", bhmsds_items), ("mdas", mdas_items)):
            if name not in exclude:
                images += items(root)
        ink = ink_items(dev=False) if "crohme" not in exclude else []
        if "crohme" not in exclude and "pairs" not in exclude:  # pairs are CROHME's inks
            ink += junk_pairs(dev=False)
        available = extra.available(root)
        for name, loader in extra.SOURCES.items():
            if name in exclude or not available.get(name):
                continue
            for sample in loader(root):
                if sample.split != "train":
                    continue
                if isinstance(sample, extra.InkSample):
                    ink.append(
                        InkItem(at_origin(sample.strokes), CLASS_INDEX[sample.label], None, name)
                    )
                else:
                    images.append(ImageItem(sample.mask, CLASS_INDEX[sample.label], name))
        return cls(ink=ink, images=images, weights={**SOURCE_WEIGHTS, **(weights or {})})

    def __len__(self) -> int:
        return len(self.ink) + len(self.images)

    def batch(self, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``size`` fresh samples: ``(size, 2, 32, 32)`` float32 inputs and int64 labels."""
        x = np.zeros((size, INPUT_CHANNELS, INPUT_SIZE, INPUT_SIZE), np.float32)
        y = np.zeros(size, np.int64)
        n_ink = len(self.ink)
        p_items = float(self.probs.sum())
        picks = rng.choice(len(self.probs), size=size, p=self.probs / p_items)
        synthetic = rng.random(size) > p_items
        for i in range(size):
            if synthetic[i]:
                mask, ref = synthetic_reject(rng)
                label = REJECT
            elif picks[i] < n_ink:
                item = self.ink[picks[i]]
                mask, ref = ink_sample(item, rng)
                label = item.label
            else:
                img = self.images[picks[i] - n_ink]
                mask, ref = image_sample(img, rng)
                label = img.label
            normalize_input(mask, ref_height=ref, out=x[i])
            y[i] = label
        return x, y

    def class_counts(self) -> dict[str, dict[str, int]]:
        """Items per class and source (for the model card)."""
        out: dict[str, dict[str, int]] = {c: {} for c in CLASSES}
        for it in self.ink:
            d = out[CLASSES[it.label]]
            d[it.source] = d.get(it.source, 0) + 1
        for im in self.images:
            d = out[CLASSES[im.label]]
            d[im.source] = d.get(im.source, 0) + 1
        return out
