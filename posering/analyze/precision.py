"""precision="auto" on CPUs with fast bfloat16: use it only where it keeps the numbers.

bfloat16 autocast runs about twice as fast as float32 on CPUs with AVX-512 BF16 or AMX, but it
rounds: on a well-trained model (sharp score maps) the poses barely move, while on a weak model
(flat maps) the argmax of a map can jump to another cell. So before a run, posering analyses a
few frames spread over the first video in both precisions and keeps bfloat16 only if no
keypoint that either run finds (likelihood >= ``min_likelihood``) moves by more than
``tolerance_px``. The decision is made once, in the driver, so every worker computes alike,
and kept per snapshot (``model_cache.py``): later runs with the same model read it instead of
measuring again, and the log says which ("precision auto -> ... (measured ...)" or "(kept
from ...)"). It is measured on the first video analysed with the snapshot.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from posering.project.models import ModelRef
from posering.video import VideoReader

log = logging.getLogger("posering.analyze")


def cpu_has_fast_bf16() -> bool:
    checker = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
    if checker is not None and checker():
        return True
    cpuinfo = Path("/proc/cpuinfo")
    flags = cpuinfo.read_text() if cpuinfo.exists() else ""
    return "avx512_bf16" in flags or "amx_bf16" in flags


def choose_precision(model_ref: ModelRef, video: str, device: str | None, sample_frames: int = 12,
                     tolerance_px: float = 1.0, min_likelihood: float = 0.05) -> str:
    """The concrete precision that "auto" means for this model on this machine."""
    from posering.model.build import pick_device

    target = pick_device(device or "auto")
    if target.type != "cpu":
        return "auto"  # the GPU default (runtime.resolve_precision) applies
    if not cpu_has_fast_bf16():
        return "fp32"
    from posering.analyze import model_cache

    conditions = {"tolerance_px": tolerance_px, "min_likelihood": min_likelihood, "sample_frames": sample_frames,
                  "cpu_fast_bf16": True}
    kept = model_cache.read_decision(model_ref, "precision")
    if kept is not None and kept.get("conditions") == conditions and kept.get("choice") in ("fp32", "bf16"):
        log.info("precision auto -> %s (kept from an earlier run: bfloat16 moved keypoints by at most "
                 "%.2f px on %d sample frames of %s)", kept["choice"], kept["worst_px"], kept["frames"], kept["video"])
        return kept["choice"]
    choice, worst, count = _measure(model_ref, video, sample_frames, tolerance_px, min_likelihood)
    location = model_cache.write_decision(model_ref, "precision", {
        "choice": choice, "worst_px": worst, "frames": count, "video": video, "conditions": conditions})
    log.info("precision auto -> %s (measured: bfloat16 moved keypoints by at most %.2f px on %d sample "
             "frames; kept in %s)", choice, worst, count, location)
    return choice


def _measure(model_ref: ModelRef, video: str, sample_frames: int, tolerance_px: float,
             min_likelihood: float) -> tuple[str, float, int]:
    """(choice, largest move in px, frames sampled): both precisions on frames spread over the video."""
    from posering.analyze.predictor import load_predictor

    with VideoReader(video) as reader:
        indices = np.linspace(0, reader.frame_count - 1, min(sample_frames, reader.frame_count)).astype(int)
        frames = np.stack([frame for _, frame in reader.read_many(indices)])
    exact, _ = load_predictor(model_ref, "cpu", "fp32")
    fast, _ = load_predictor(model_ref, "cpu", "bf16")
    reference = exact(frames).cpu().numpy()
    rounded = np.concatenate([fast(frames[i:i + 4]).cpu().numpy() for i in range(0, len(frames), 4)])
    found = (reference[..., 2] >= min_likelihood) | (rounded[..., 2] >= min_likelihood)
    moved = np.linalg.norm(reference[..., :2] - rounded[..., :2], axis=-1)[found]
    worst = float(moved.max()) if moved.size else 0.0
    return ("bf16" if worst <= tolerance_px else "fp32"), worst, len(frames)
