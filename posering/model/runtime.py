"""The inference path: uint8 frames in, poses out, everything after the copy on the device.

`make_predictor(model)` returns a callable that takes a batch of uint8 RGB frames (N, H, W, 3),
moves them to the device, normalises them there (/255, ImageNet mean and std), runs the network
and decodes the poses there, returning an (N, K, 3) float32 tensor of x, y, likelihood.

Defaults (precision="auto", backend="auto"), chosen by benchmarks/model_runtime.py on a
2-core AVX-512 (BF16) CPU, batches of 640x480 frames; see docs/benchmarks.md:
- CPU: float32 through ONNX Runtime (the `onnx` extra), else torch float32 channels_last.
  ONNX Runtime was the fastest path that keeps DeepLabCut's numbers (ms per frame, torch fp32
  vs ONNX Runtime): resnet_50 533 vs 518, mobilenet_v2_1.0 309 vs 123, mobilenet_v4_small 35
  vs 29. bfloat16 autocast is ~2x faster than float32 (resnet_50 250 ms) but moved the peak of
  6 of 128 keypoints of DeepLabCut's (weak, flat-mapped) test model by whole cells, so it is
  opt-in (precision="bf16"). torch.compile gained nothing reliable and costs 1-2 min of
  compilation per input shape.
- int8 (CPU only): an ONNX Runtime graph quantized with ranges calibrated on the video's frames
  (model/quantize.py); the predictor reads it from ``onnx_cache`` and refuses without one.
  analyze/precision.py uses it, like bfloat16, only where it moves no sample keypoint by > 1 px.
- CUDA: torch, channels_last + float16 autocast (not measured here: no GPU was available).
Decoding always runs in float32.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging

import numpy as np
import torch

from posering.model.build import pick_device
from posering.model.decode import decode_poses
from posering.model.targets import DEFAULT_LOCREF_STD

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
PRECISIONS = ("auto", "fp32", "bf16", "fp16", "int8")
BACKENDS = ("auto", "torch", "onnxruntime")

log = logging.getLogger("posering.model")


def resolve_backend(backend: str, device: torch.device, precision: str) -> str:
    """"auto": ONNX Runtime for float32 on the CPU when it is installed, torch otherwise."""
    if backend not in BACKENDS:
        raise ValueError(f"backend {backend!r}: use one of {BACKENDS}")
    if backend != "auto":
        return backend
    have_ort = all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx"))
    if precision == "int8":
        return "onnxruntime"  # int8 graphs run in ONNX Runtime only (model/quantize.py)
    return "onnxruntime" if device.type == "cpu" and precision == "fp32" and have_ort else "torch"


def resolve_precision(precision: str, device: torch.device) -> str:
    """The concrete precision ("fp32", "bf16" or "fp16") that "auto" means on `device`."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r}: use one of {PRECISIONS}")
    if precision != "auto":
        return precision
    # fp16 rather than bf16 on CUDA: as fast on tensor cores, 8x finer rounding. Under CPU
    # autocast, bf16 moved the peak of 6 of 128 (flat) keypoint maps of DeepLabCut's weak test
    # model by > 1 px, fp16 1 of 128; pass precision="fp32" for DeepLabCut's exact numbers.
    return "fp16" if device.type == "cuda" else "fp32"


class Predictor:
    """A model placed on a device for inference; call it with uint8 frames.

    channel_order: "RGB" (what the network was trained on) or "BGR" (OpenCV's frames; the flip
    happens on the device). Frames may be a numpy array or a tensor, on any device.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        device: str | torch.device | None = "auto",
        precision: str = "auto",
        channels_last: bool = True,
        channel_order: str = "RGB",
        compile: bool = False,
        backend: str = "auto",
        onnx_cache: str | None = None,
    ):
        self.device = pick_device(device)
        self.precision = resolve_precision(precision, self.device)
        self.backend = resolve_backend(backend, self.device, self.precision)
        if self.backend == "onnxruntime" and (self.device.type != "cpu" or self.precision not in ("fp32", "int8")):
            raise ValueError("backend 'onnxruntime' runs float32 (or a calibrated int8 graph) on the CPU only")
        if self.precision == "int8" and (onnx_cache is None or not _exists(onnx_cache)):
            raise ValueError("precision 'int8' needs a graph calibrated on the video's frames "
                             "(analyze_videos makes it; see posering/model/quantize.py)")
        self.channels_last = channels_last and self.backend == "torch"
        if channel_order not in ("RGB", "BGR"):
            raise ValueError(f"channel_order {channel_order!r}: use 'RGB' or 'BGR'")
        self.flip = channel_order == "BGR"
        spec = getattr(model, "spec", None)
        self.stride = float(model.stride)
        self.locref_std = float(spec.locref_std) if spec else DEFAULT_LOCREF_STD
        self.apply_sigmoid = bool(spec.apply_sigmoid) if spec else False

        self.network = None
        if self.backend == "onnxruntime":
            from posering.model.onnx_network import OnnxNetwork

            try:
                self.network = OnnxNetwork(model, cache=onnx_cache)
            except Exception as err:  # the exporter or the runtime could not take this model
                if backend != "auto" or self.precision == "int8":
                    raise
                log.warning("ONNX Runtime unavailable for this model (%s: %s); using torch",
                            type(err).__name__, str(err).splitlines()[0] if str(err) else "")
                self.backend, self.channels_last = "torch", channels_last
        if self.network is None:
            model = model.to(self.device).eval()
            if self.channels_last:
                model = model.to(memory_format=torch.channels_last)
            self.network = torch.compile(model) if compile else model
        log.info("inference: %s on %s, %s%s", self.backend, self.device, self.precision,
                 ", channels_last" if self.channels_last else "")
        # (x/255 - mean)/std folded into one multiply-add per element: x*scale + shift.
        std = torch.tensor(IMAGENET_STD, device=self.device).view(1, 3, 1, 1)
        mean = torch.tensor(IMAGENET_MEAN, device=self.device).view(1, 3, 1, 1)
        self._scale = 1.0 / (255.0 * std)
        self._shift = -mean / std

    def _autocast(self):
        if self.precision in ("fp32", "int8"):
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype)

    def preprocess(self, frames) -> torch.Tensor:
        """uint8 (N, H, W, 3) -> normalised float32 (N, 3, H, W) on the device."""
        if isinstance(frames, np.ndarray):
            frames = torch.from_numpy(np.ascontiguousarray(frames))
        if frames.dtype != torch.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f"expected uint8 frames (N, H, W, 3), got {tuple(frames.shape)} {frames.dtype}")
        x = frames.to(self.device, non_blocking=True).permute(0, 3, 1, 2)
        if self.flip:
            x = x.flip(1)
        memory_format = torch.channels_last if self.channels_last else torch.contiguous_format
        # One float buffer per batch, normalised in place: a 640x480 batch of 8 is 29 MB, and
        # each extra temporary is another large allocation and pass over memory per batch.
        x = x.to(torch.float32, memory_format=memory_format)
        return x.mul_(self._scale).add_(self._shift)

    @torch.inference_mode()
    def maps(self, frames) -> dict[str, torch.Tensor]:
        """Raw network outputs (float32) for uint8 frames: {"heatmap", "locref"}."""
        with self._autocast():
            outputs = self.network(self.preprocess(frames))
        return {k: v.float() for k, v in outputs.items()}

    @torch.inference_mode()
    def __call__(self, frames, offset=None, scale=None) -> torch.Tensor:
        """(N, K, 3) poses on the device; offset/scale map crop coordinates to the frame."""
        return decode_poses(
            self.maps(frames),
            stride=self.stride,
            locref_std=self.locref_std,
            apply_sigmoid=self.apply_sigmoid,
            offset=offset,
            scale=scale,
        )


def _exists(location: str) -> bool:
    from posering import storage

    return storage.exists(location)


def make_predictor(
    model: torch.nn.Module,
    device: str | torch.device | None = "auto",
    precision: str = "auto",
    **options,
) -> Predictor:
    """The default inference path for `model` (see the module docstring); options go to Predictor.

    On the CPU the default exports the model to ONNX Runtime once, here (3-5 s on 2 cores for
    mobilenet_v4_small..resnet_50): worth it for a video, not for a handful of images, where
    callers should pass backend="torch". The ONNX session holds the weights as they were at
    this call: make a new predictor after training further.
    """
    return Predictor(model, device=device, precision=precision, **options)
