"""Exporting CLIP's image tower to ONNX (fp32), and quantizing it to int8, once per model.

The files are written atomically (a temporary name, then `os.replace`), so a run killed mid-export, or two
processes exporting at once, never leave a half file under the final name.

int8 is ONNX Runtime's dynamic quantization of the weight matrix products only (`MatMulConstBOnly`): the
Linear layers' weights become int8 per output channel, activations are quantized per batch on the fly, and
the patch embedding, layer norms, softmax and the attention's activation products stay fp32, which keeps
the embeddings within the fidelity the runtime check asks for.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

EXPORT_FORMAT = 1  # bump when what is exported changes: older folders are then never read
FP32_FILE = "image-tower-fp32.onnx"
INT8_FILE = "image-tower-int8.onnx"
OPSET = 17


def ensure_exported(model: Any, image_size: int, folder: Path, *, fp32: bool = True, int8: bool = True) -> None:
    """Make sure `folder` holds the fp32 and/or int8 image tower, exporting what is missing.

    Args:
        model: the open_clip model (CPU, fp32).
        image_size: the tower's input side in pixels.
        folder: this model's cache folder (`runtime.cache_folder`).
        fp32: keep the fp32 file (OpenVINO and ONNX Runtime fp32 run it).
        int8: build the int8 file (built from the fp32 one).
    """
    folder.mkdir(parents=True, exist_ok=True)
    fp32_path, int8_path = folder / FP32_FILE, folder / INT8_FILE
    if (fp32 or (int8 and not int8_path.is_file())) and not fp32_path.is_file():
        export_fp32(model, image_size, fp32_path)
    if int8 and not int8_path.is_file():
        quantize_int8(fp32_path, int8_path)


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")


class _ImageTower:
    """`model.encode_image` as a module of its own, for the exporter."""

    @staticmethod
    def wrap(model: Any) -> Any:
        import torch

        class ImageTower(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.model = model

            def forward(self, pixels: torch.Tensor) -> torch.Tensor:
                return self.model.encode_image(pixels)

        return ImageTower().eval()


def export_fp32(model: Any, image_size: int, target: Path) -> None:
    """Export `model.encode_image` to ONNX with a dynamic batch dimension."""
    import torch

    tmp = _temporary(target)
    example = torch.zeros(2, 3, image_size, image_size)
    # Without gradients nn.MultiheadAttention takes a fused fast path that has no ONNX form: trace the plain one.
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        # The TorchScript exporter needs no extra package; its deprecation and tracer warnings are torch's
        # business, not the user's.
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _ImageTower.wrap(model),
                (example,),
                str(tmp),
                input_names=["pixels"],
                output_names=["features"],
                dynamic_axes={"pixels": {0: "batch"}, "features": {0: "batch"}},
                opset_version=OPSET,
                do_constant_folding=True,
                dynamo=False,
            )
        os.replace(tmp, target)
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
        tmp.unlink(missing_ok=True)


def quantize_int8(source: Path, target: Path) -> None:
    """ONNX Runtime's dynamic int8 quantization of the weight matrix products of `source`."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = _temporary(target)
    # The quantizer logs advice about pre-processing at WARNING through the root logger.
    logging.disable(logging.WARNING)
    try:
        quantize_dynamic(
            str(source),
            str(tmp),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
            extra_options={"MatMulConstBOnly": True},
        )
        os.replace(tmp, target)
    finally:
        logging.disable(logging.NOTSET)
        tmp.unlink(missing_ok=True)
