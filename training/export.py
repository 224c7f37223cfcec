"""Export a trained :class:`training.model.SymbolNet` to ONNX; describe it in ``symbols.json``."""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import torch

from mathocr.normalize import FILL_FRACTION, MAX_RELATIVE_SIZE
from mathocr.symbols import CLASSES, INPUT_CHANNELS, INPUT_SIZE

#: ONNX opset the model is exported with (pinned so onnxruntime versions agree).
OPSET = 17
#: Largest tolerated difference between torch and onnxruntime logits.
MAX_ABS_DIFF = 1e-3

NORMALISATION = (
    "mathocr.normalize.normalize_input(mask, ref_height=line's median non-flat symbol "
    f"height): plane 0 the ink, tight crop, aspect kept, longest side (or {FILL_FRACTION} "
    "* ref_height if larger) scaled to 28 px, centred in 32x32 with 2 px padding, ink 1.0 "
    "on 0.0; plane 1 constant, the longest side over ref_height (clipped to "
    f"{MAX_RELATIVE_SIZE}); float32, no mean/std"
)


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def export_onnx(
    model: torch.nn.Module,
    path: Path,
    *,
    dummy: torch.Tensor | None = None,
    output: str = "logits",
    dynamic_axes: dict[str, dict[int, str]] | None = None,
) -> None:
    """Write ``model`` as checked ONNX (opset :data:`OPSET`), input ``input``.

    By default the classifier's: ``[N, 2, 32, 32]`` float32 in, ``logits`` out, the batch
    dynamic; ``dummy``, ``output`` and ``dynamic_axes`` describe another network's.
    """
    model = model.eval().to(memory_format=torch.contiguous_format)
    if dummy is None:
        dummy = torch.zeros(1, INPUT_CHANNELS, INPUT_SIZE, INPUT_SIZE)
    if dynamic_axes is None:
        dynamic_axes = {"input": {0: "N"}, output: {0: "N"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (dummy,),
            str(path),
            input_names=["input"],
            output_names=[output],
            dynamic_axes=dynamic_axes,
            opset_version=OPSET,
            dynamo=False,
            do_constant_folding=True,
        )
    import onnx

    proto = onnx.load(str(path))
    onnx.checker.check_model(proto)


def onnx_max_abs_diff(model: torch.nn.Module, path: Path, x: np.ndarray) -> float:
    """Largest absolute difference between torch and onnxruntime logits on ``x``."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    onnx_logits = session.run(["logits"], {"input": x.astype(np.float32)})[0]
    model.eval()
    with torch.no_grad():
        torch_logits = model(torch.from_numpy(x)).numpy()
    return float(np.abs(onnx_logits - torch_logits).max())


def write_metadata(path: Path, onnx_path: Path, **extra) -> dict:
    """Write ``symbols.json`` beside the model (classes, input size, version, sha256, opset ...)."""
    meta = {
        "classes": list(CLASSES),
        "input_size": INPUT_SIZE,
        "input_channels": INPUT_CHANNELS,
        "input": {
            "name": "input",
            "shape": ["N", INPUT_CHANNELS, INPUT_SIZE, INPUT_SIZE],
            "dtype": "float32",
        },
        "output": {"name": "logits", "shape": ["N", len(CLASSES)], "dtype": "float32"},
        "opset": OPSET,
        "sha256": sha256(onnx_path),
        "normalisation": NORMALISATION,
        "fill_fraction": FILL_FRACTION,
        "max_relative_size": MAX_RELATIVE_SIZE,
        **extra,
    }
    path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return meta
