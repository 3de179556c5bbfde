"""The inference path: uint8 frames in, poses out, everything after the copy on the device.

`make_predictor(model)` returns a callable that takes a batch of uint8 RGB frames (N, H, W, 3),
moves them to the device, normalises them there (/255, ImageNet mean and std), runs the network
and decodes the poses there, returning an (N, K, 3) float32 tensor of x, y, likelihood.

Defaults (precision="auto"), from posering/bench/model_runtime.py (numbers in docs/benchmarks.md):
- CUDA: channels_last + bfloat16 autocast (float16 where the GPU lacks bfloat16).
- CPU: channels_last + float32. bfloat16 autocast is ~2x faster on CPUs with AVX-512 BF16 /
  AMX, but its rounding moves the peak of flat score maps (weakly trained models) by whole
  cells, so it is opt-in (precision="bf16"). torch.compile and ONNX Runtime were measured and
  not kept: see the benchmark.
Decoding always runs in float32.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch

from posering.model.build import pick_device
from posering.model.decode import decode_poses
from posering.model.targets import DEFAULT_LOCREF_STD

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def resolve_precision(precision: str, device: torch.device) -> str:
    """The concrete precision ("fp32", "bf16" or "fp16") that "auto" means on `device`."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r}: use one of {PRECISIONS}")
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "fp32"


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
    ):
        self.device = pick_device(device)
        self.precision = resolve_precision(precision, self.device)
        self.channels_last = channels_last
        if channel_order not in ("RGB", "BGR"):
            raise ValueError(f"channel_order {channel_order!r}: use 'RGB' or 'BGR'")
        self.flip = channel_order == "BGR"
        spec = getattr(model, "spec", None)
        self.stride = float(model.stride)
        self.locref_std = float(spec.locref_std) if spec else DEFAULT_LOCREF_STD
        self.apply_sigmoid = bool(spec.apply_sigmoid) if spec else False

        model = model.to(self.device).eval()
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        self.model = torch.compile(model) if compile else model
        # (x/255 - mean)/std folded into one multiply-add per element: x*scale + shift.
        std = torch.tensor(IMAGENET_STD, device=self.device).view(1, 3, 1, 1)
        mean = torch.tensor(IMAGENET_MEAN, device=self.device).view(1, 3, 1, 1)
        self._scale = 1.0 / (255.0 * std)
        self._shift = -mean / std

    def _autocast(self):
        if self.precision == "fp32":
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
        x = x.float() * self._scale + self._shift
        memory_format = torch.channels_last if self.channels_last else torch.contiguous_format
        return x.contiguous(memory_format=memory_format)

    @torch.inference_mode()
    def maps(self, frames) -> dict[str, torch.Tensor]:
        """Raw network outputs (float32) for uint8 frames: {"heatmap", "locref"}."""
        with self._autocast():
            outputs = self.model(self.preprocess(frames))
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


def make_predictor(
    model: torch.nn.Module,
    device: str | torch.device | None = "auto",
    precision: str = "auto",
    **options,
) -> Predictor:
    """The default inference path for `model` (see the module docstring); options go to Predictor."""
    return Predictor(model, device=device, precision=precision, **options)
