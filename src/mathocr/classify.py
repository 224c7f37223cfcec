"""Stage 4: classify normalized symbols with the shipped ONNX model.

The model (``models/symbols.onnx``) takes ``input`` ``[N, 2, 32, 32]`` float32
(:func:`mathocr.normalize.normalize_batch`: the ink, and a plane holding the
symbol's relative size) and returns ``logits`` ``[N, C]``, one per class its
``symbols.json`` lists. Those classes are mapped onto
:data:`mathocr.symbols.CLASSES` (a class the model was not trained on gets
probability 0); a model that knows a class the code does not, lacks
``reject``, or whose checksum does not match is refused with
:class:`~mathocr.errors.ModelError`, so training and serving cannot drift apart.

All symbols of an image go through the network in one call. onnxruntime runs
on one intra-op thread by default: the server gets its parallelism from
concurrent requests, and a 20-class CNN on a dozen 32x32 crops gains nothing from
more threads.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ModelError
from .normalize import FILL_FRACTION, MAX_RELATIVE_SIZE
from .symbols import CLASSES, INPUT_CHANNELS, INPUT_SIZE

#: The model shipped inside the package.
DEFAULT_MODEL = Path(__file__).with_name("models") / "symbols.onnx"
#: Environment variable naming another model file to use by default.
MODEL_ENV = "MATHOCR_MODEL"


def default_model_path() -> Path:
    """``$MATHOCR_MODEL`` when set, else the model shipped in the package."""
    return Path(os.environ.get(MODEL_ENV) or DEFAULT_MODEL)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, numerically stable.

    Examples
    --------
    >>> softmax(np.array([[0.0, 0.0]])).tolist()
    [[0.5, 0.5]]
    """
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    probabilities: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return probabilities


def top_k(probs: np.ndarray, k: int = 5) -> list[list[tuple[str, float]]]:
    """The ``k`` most probable ``(class, probability)`` pairs of each row, best first.

    Examples
    --------
    >>> p = np.zeros((1, len(CLASSES))); p[0, 1] = 0.7; p[0, 7] = 0.3
    >>> top_k(p, 2)
    [[('1', 0.7), ('7', 0.3)]]
    """
    k = max(1, min(k, probs.shape[1])) if probs.ndim == 2 else 1
    if probs.ndim != 2:
        out = []
        for row in probs:
            idx = np.argsort(-row, kind="stable")[:k]
            out.append([(CLASSES[i], float(row[i])) for i in idx])
        return out
    # All rows at once: the same stable order as row by row.
    idx = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    top = np.take_along_axis(probs, idx, axis=1).tolist()
    return [
        [(CLASSES[i], p) for i, p in zip(row_idx, row_p, strict=True)]
        for row_idx, row_p in zip(idx.tolist(), top, strict=True)
    ]


def load_metadata(model_path: Path) -> dict[str, Any]:
    """Read and check the ``.json`` beside a model: classes, input size, checksum."""
    meta_path = model_path.with_suffix(".json")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(f"Model metadata {meta_path} is missing.") from exc
    except (OSError, ValueError) as exc:
        raise ModelError(f"Model metadata {meta_path} is unreadable: {exc}") from exc
    if not isinstance(meta, dict):
        raise ModelError(f"Model metadata {meta_path} is not a JSON object.")
    classes = meta.get("classes")
    if (
        not isinstance(classes, list)
        or len(set(classes)) != len(classes)
        or not set(classes) <= set(CLASSES)
        or "reject" not in classes
    ):
        raise ModelError(
            f"Model classes {classes!r} are not distinct classes of the code's CLASSES "
            f"{list(CLASSES)} including 'reject'."
        )
    if int(meta.get("input_size", INPUT_SIZE)) != INPUT_SIZE:
        raise ModelError(f"Model input size {meta.get('input_size')} is not {INPUT_SIZE}.")
    # models written before the key existed were trained with symbols filling the frame
    # from half the reference height up
    fill = meta.get("fill_fraction", 0.5)
    if not isinstance(fill, int | float) or float(fill) != FILL_FRACTION:
        raise ModelError(
            f"Model was trained with fill_fraction {fill!r}; the code normalizes symbols "
            f"with {FILL_FRACTION}."
        )
    # models written before the key existed saw the ink plane only
    channels = meta.get("input_channels", 1)
    if channels != INPUT_CHANNELS:
        raise ModelError(
            f"Model takes {channels!r} input planes; the code builds {INPUT_CHANNELS} "
            "(the ink and the relative size)."
        )
    clip = meta.get("max_relative_size")
    if not isinstance(clip, int | float) or isinstance(clip, bool) or clip != MAX_RELATIVE_SIZE:
        raise ModelError(
            f"Model was trained with relative sizes clipped at {clip!r}; the code clips "
            f"at {MAX_RELATIVE_SIZE}."
        )
    return meta


def _temperature(meta: dict[str, Any]) -> float:
    """The calibration temperature in a model's metadata (1.0 when absent)."""
    value = meta.get("temperature", 1.0)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ModelError(f"Model temperature {value!r} is not a positive number.")
    return float(value)


class Classifier:
    """The symbol classifier: an onnxruntime session plus its checked metadata.

    Parameters
    ----------
    path : path-like, optional
        The ``.onnx`` file; its metadata is the ``.json`` of the same name.
        Defaults to ``$MATHOCR_MODEL``, else the model shipped in the package.
    threads : int, optional
        onnxruntime intra-op threads (1 by default).

    Raises
    ------
    ModelError
        The model or its metadata is missing, corrupt, or disagrees with
        :data:`~mathocr.symbols.CLASSES`.

    Examples
    --------
    >>> clf = Classifier()
    >>> probs = clf.predict(np.zeros((3, 2, 32, 32), np.float32))
    >>> probs.shape == (3, len(CLASSES)), bool(np.allclose(probs.sum(axis=1), 1))
    (True, True)
    """

    def __init__(self, path: str | Path | None = None, *, threads: int = 1) -> None:
        self.path = Path(path) if path is not None else default_model_path()
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise ModelError(f"Model {self.path} cannot be read: {exc}") from exc
        meta = load_metadata(self.path)
        digest = meta.get("sha256")
        if digest and hashlib.sha256(data).hexdigest() != digest:
            raise ModelError(f"Model {self.path} does not match the sha256 in its metadata.")
        self.metadata = meta
        self.version = str(meta.get("version", "unknown"))
        #: The classes the model was trained on, in its logit order.
        self.classes: tuple[str, ...] = tuple(meta["classes"])
        self._columns = np.array([CLASSES.index(c) for c in self.classes], np.intp)
        self.temperature = _temperature(meta)
        import onnxruntime as ort  # imported here: mathocr.result users need not pay for it

        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, int(threads))
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(
                data, sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(f"Model {self.path} cannot be loaded: {exc}") from exc
        inputs = self._session.get_inputs()
        outputs = self._session.get_outputs()
        if len(inputs) != 1 or not outputs:
            raise ModelError("The model must have one input and at least one output.")
        self._input = inputs[0].name
        names = [o.name for o in outputs]
        self._output = "logits" if "logits" in names else names[0]
        self._outputs_probabilities = bool(meta.get("outputs_probabilities", False))

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """Raw ``(N, len(self.classes))`` scores of a ``(N, 2, 32, 32)`` float32 batch (one call).

        Columns are in the model's own class order (:attr:`classes`).
        """
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        expected = (INPUT_CHANNELS, INPUT_SIZE, INPUT_SIZE)
        if batch.ndim != 4 or batch.shape[1:] != expected:
            raise ValueError(f"expected (N, {', '.join(map(str, expected))}), got {batch.shape}")
        n = len(self.classes)
        if batch.shape[0] == 0:
            return np.zeros((0, n), np.float32)
        (out,) = self._session.run([self._output], {self._input: batch})
        out = np.asarray(out, np.float32)
        if out.shape != (batch.shape[0], n):
            raise ModelError(f"The model returned shape {out.shape}, expected (N, {n}).")
        return out

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Class probabilities ``(N, len(CLASSES))`` of a ``(N, 2, 32, 32)`` batch, in one call.

        Columns follow :data:`~mathocr.symbols.CLASSES`; a class the model does not
        know has probability 0.
        """
        out = self.logits(batch)
        if not self._outputs_probabilities:
            out = softmax(out.astype(np.float64)).astype(np.float32)
        if len(self.classes) == len(CLASSES) and self.classes == CLASSES:
            return out
        probs = np.zeros((out.shape[0], len(CLASSES)), np.float32)
        probs[:, self._columns] = out
        return probs

    def calibrate(self, probs: np.ndarray) -> np.ndarray:
        """The probabilities to report: :meth:`predict`'s, rescaled by the temperature.

        ``softmax(log(probs) / temperature)``, with the temperature fitted on the
        held-out writers (``symbols.json``; 1 when absent), so that a symbol reported
        at 0.9 is right about 9 times in 10 there. The order of the classes does not
        change. Decisions (cuts, reading) keep using :meth:`predict`'s probabilities,
        on which their thresholds were tuned. With temperature 1, ``probs`` itself is
        returned.
        """
        if self.temperature == 1.0 or len(probs) == 0:
            return probs
        known = np.asarray(probs, np.float64)[:, self._columns]
        logp = np.log(np.clip(known, 1e-30, None)) / self.temperature
        out = np.zeros(np.shape(probs), np.float32)
        out[:, self._columns] = softmax(logp)
        return out

    def __repr__(self) -> str:
        return f"Classifier(path={str(self.path)!r}, version={self.version!r})"
