"""precision="auto" on CPUs: a reduced precision only where it keeps the numbers.

bfloat16 autocast (on CPUs with AVX-512 BF16 or AMX) and int8 graphs calibrated on the video
(ONNX Runtime, ``model/quantize.py``) run about twice as fast as float32, but they round: on a
well-trained model (sharp score maps) the poses barely move, while on a weak model (flat maps)
the argmax of a map can jump to another cell. So before a run, posering analyses a few frames
spread over the first video in float32 and in each reduced precision and keeps the fastest that
moves no keypoint that either run finds (likelihood >= ``min_likelihood``) by more than
``tolerance_px``; if none does, float32. The decision is made once, in the driver, so every
worker computes alike, and kept per snapshot (``model_cache.py``): later runs with the same
model read it instead of measuring again. The log says which, with what was measured:
"precision auto -> fp32 (measured on 12 sample frames: bf16 moved keypoints by at most 6.00 px
(refused, limit 1 px); ..." or "(kept from an earlier run on <video>: ...)".
"""

from __future__ import annotations

import importlib.util
import logging
import time
from pathlib import Path

import numpy as np
import torch

from posering import storage
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


def reduced_precisions(int8: bool = True) -> list[str]:
    """The reduced precisions worth measuring on this CPU: bfloat16 where it is fast, int8 where
    ONNX Runtime is installed (model/quantize.py) and ``int8`` allows it."""
    candidates = ["bf16"] if cpu_has_fast_bf16() else []
    if int8 and all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx")):
        candidates.append("int8")
    return candidates


def choose_precision(model_ref: ModelRef, video: str, device: str | None, sample_frames: int = 12,
                     tolerance_px: float = 1.0, min_likelihood: float = 0.05, int8: bool = True) -> str:
    """The concrete precision that "auto" means for this model on this machine: the fastest of
    float32 and the reduced precisions that keep every sample keypoint within ``tolerance_px``.

    ``int8=False`` where workers run on other machines: the calibrated graph is kept in this
    machine's cache folder, which theirs do not share."""
    from posering.analyze import model_cache
    from posering.model.build import pick_device

    target = pick_device(device or "auto")
    if target.type != "cpu":
        return "auto"  # the GPU default (runtime.resolve_precision) applies
    candidates = reduced_precisions(int8)
    if not candidates:
        return "fp32"
    conditions = {"tolerance_px": tolerance_px, "min_likelihood": min_likelihood, "sample_frames": sample_frames,
                  "candidates": candidates}
    kept = model_cache.read_decision(model_ref, "precision")
    if kept is not None and kept.get("conditions") == conditions and _usable(model_ref, kept.get("choice")):
        log.info("precision auto -> %s (kept from an earlier run on %s: %s)", kept["choice"], kept["video"],
                 _describe(kept["measured"], tolerance_px))
        return kept["choice"]
    measured = _measure(model_ref, video, candidates, sample_frames, min_likelihood)
    passing = [c for c in candidates if measured[c]["worst_px"] <= tolerance_px]
    choice = min(passing + ["fp32"], key=lambda c: measured[c]["ms_per_frame"])
    location = model_cache.write_decision(model_ref, "precision", {
        "choice": choice, "video": video, "measured": measured, "conditions": conditions})
    log.info("precision auto -> %s (measured on %d sample frames: %s; kept in %s)", choice,
             measured["fp32"]["frames"], _describe(measured, tolerance_px), location)
    return choice


def ensure_int8_graph(model_ref: ModelRef, video: str, sample_frames: int = 12) -> str:
    """precision="int8" asked for explicitly: the graph, calibrated on this video if not yet made."""
    from posering.analyze.predictor import load_predictor

    _, calibration = sample_video(video, sample_frames)
    exact, _ = load_predictor(model_ref, "cpu", "fp32")
    return make_int8_graph(model_ref, exact, calibration)


def _usable(model_ref: ModelRef, choice: str | None) -> bool:
    from posering.analyze import model_cache

    if choice == "int8":
        return storage.exists(model_cache.onnx_file(model_ref, "int8"))
    return choice in ("fp32", "bf16")


def _describe(measured: dict, tolerance_px: float) -> str:
    """e.g. 'bf16 moved keypoints by at most 3.20 px (refused, > 1 px), int8 by ...; ms per frame ...'"""
    parts = []
    for name, result in measured.items():
        if name == "fp32":
            continue
        verdict = "refused" if result["worst_px"] > tolerance_px else "allowed"
        parts.append(f"{name} moved keypoints by at most {result['worst_px']:.2f} px ({verdict}, limit "
                     f"{tolerance_px:g} px)")
    speeds = ", ".join(f"{name} {result['ms_per_frame']:.0f}" for name, result in measured.items())
    return "; ".join(parts) + f"; ms per frame: {speeds}"


def _measure(model_ref: ModelRef, video: str, candidates: list[str], sample_frames: int,
             min_likelihood: float) -> dict:
    """Per precision: the largest move from float32 (px) of any keypoint either run finds, and
    the time per frame, on frames spread over the video."""
    from posering.analyze.predictor import load_predictor

    frames, calibration = sample_video(video, sample_frames)
    exact, _ = load_predictor(model_ref, "cpu", "fp32")
    started = time.perf_counter()
    reference = _run(exact, frames)
    measured = {"fp32": {"worst_px": 0.0, "ms_per_frame": _ms(started, frames), "frames": len(frames)}}
    for precision in candidates:
        if precision == "int8":
            make_int8_graph(model_ref, exact, calibration)
        fast, _ = load_predictor(model_ref, "cpu", precision)
        started = time.perf_counter()
        rounded = _run(fast, frames)
        timing = _ms(started, frames)
        found = (reference[..., 2] >= min_likelihood) | (rounded[..., 2] >= min_likelihood)
        moved = np.linalg.norm(reference[..., :2] - rounded[..., :2], axis=-1)[found]
        measured[precision] = {"worst_px": float(moved.max()) if moved.size else 0.0, "ms_per_frame": timing,
                               "frames": len(frames)}
    return measured


def sample_video(video: str, sample_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """(check frames, calibration frames): spread over the video, the calibration frames halfway
    between the check frames, so that an int8 graph is checked on frames it was not fitted to."""
    with VideoReader(video) as reader:
        count = min(sample_frames, reader.frame_count)
        checks = np.linspace(0, reader.frame_count - 1, count).astype(int)
        between = np.unique(((checks[:-1] + checks[1:]) // 2)) if count > 1 else checks
        frames = np.stack([frame for _, frame in reader.read_many(checks)])
        calibration = np.stack([frame for _, frame in reader.read_many(between)])
    return frames, calibration


def make_int8_graph(model_ref: ModelRef, exact, calibration: np.ndarray) -> str:
    """The model's int8 graph, calibrated on ``calibration`` frames, into the cache (once)."""
    from posering.analyze import model_cache
    from posering.model.onnx_network import export_onnx
    from posering.model.quantize import quantize_int8

    location = model_cache.onnx_file(model_ref, "int8")
    if storage.exists(location):
        return location
    graph_file = model_cache.onnx_file(model_ref, "fp32")
    graph = storage.read_bytes(graph_file) if storage.exists(graph_file) else None
    if graph is None:
        from posering.model.build import load_dlc_model

        model = load_dlc_model(model_ref.model_config, model_ref.snapshot.location, device="cpu")
        outputs = ["heatmap", "locref"] if model.head.locref_head is not None else ["heatmap"]
        graph = export_onnx(model, outputs)
    images = exact.preprocess(calibration).contiguous().numpy()
    started = time.perf_counter()
    storage.write_bytes(location, quantize_int8(graph, images))
    log.info("int8 graph calibrated on %d frames in %.0f s, kept in %s", len(images),
             time.perf_counter() - started, location)
    return location


def _run(predictor, frames: np.ndarray) -> np.ndarray:
    return np.concatenate([predictor(frames[i:i + 4]).cpu().numpy() for i in range(0, len(frames), 4)])


def _ms(started: float, frames: np.ndarray) -> float:
    return 1000 * (time.perf_counter() - started) / len(frames)
