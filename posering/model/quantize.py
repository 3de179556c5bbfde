"""int8 graphs for ONNX Runtime on the CPU, calibrated on a project's own frames.

Static quantization (onnxruntime.quantization, QDQ format, per-channel int8 weights, uint8
activations) ran a resnet_50 at 640x480 1.4-2x faster than float32 on a 2-core AVX-512 CPU
(docs/benchmarks.md). The activations' ranges come from calibration frames of the video being
analysed, so the graph fits the arena, the light and the animal it will see. It rounds far more
than bfloat16: a weakly trained model's flat score maps lose their peaks (on DeepLabCut's
openfield snapshot 72% of the keypoints moved by more than 1 px), so posering uses it only where
``precision="auto"``'s check on sample frames finds no keypoint moved by more than 1 px
(``analyze/precision.py``).
"""

from __future__ import annotations

import logging
import os
import tempfile

import numpy as np

log = logging.getLogger("posering.model")


def quantize_int8(graph: bytes, calibration: np.ndarray) -> bytes:
    """The float32 ONNX ``graph`` (input "images") as an int8 graph; ``calibration``: normalised
    float32 images (N, 3, H, W) whose activations set the quantization ranges."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Frames(CalibrationDataReader):
        def __init__(self):
            self.batches = iter([{"images": calibration[i:i + 1]} for i in range(len(calibration))])

        def get_next(self):
            return next(self.batches, None)

    with tempfile.TemporaryDirectory(prefix="posering-int8-") as work:
        source, prepared, target = (os.path.join(work, f"{n}.onnx") for n in ("fp32", "prepared", "int8"))
        with open(source, "wb") as out:
            out.write(graph)
        quant_pre_process(source, prepared, skip_symbolic_shape=True)
        quantize_static(prepared, target, Frames(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        with open(target, "rb") as result:
            return result.read()
