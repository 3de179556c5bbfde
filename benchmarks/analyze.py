"""Video analysis throughput: the raw model (ceiling), the single-process path, Ray with 1 and 2
workers, and, when a DeepLabCut venv is given, DeepLabCut 3 on the same video and weights.

    python -m benchmarks.analyze                          # DeepLabCut 3's resnet_50 on the 600-frame clip
    python -m benchmarks.analyze --dlc-python /opt/dlc/bin/python --dynamic 0.5,10
    python -m benchmarks.analyze --config my/config.yaml --video my.mp4 --paths ceiling,ray1

Prints a Markdown table (frames/s, share of the ceiling) and writes the rows as JSON (--out).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks._shared import dlc3_project, run_external, table, timed

DLC_SCRIPT = textwrap.dedent("""
    import sys, time, torch, deeplabcut
    torch.set_num_threads(int(sys.argv[5]))
    config, video, out, batch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    dynamic = (True, float(sys.argv[6]), int(sys.argv[7])) if len(sys.argv) > 6 else (False, 0.5, 10)
    started = time.perf_counter()
    deeplabcut.analyze_videos(config, [video], destfolder=out, batch_size=batch, dynamic=dynamic)
    print("SECONDS", time.perf_counter() - started)
""")


def _args(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.analyze", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", help="project config.yaml (default: DeepLabCut 3's openfield model)")
    parser.add_argument("--video", help="video to analyze (default: the 600-frame openfield clip)")
    parser.add_argument("--shuffle", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--paths", default="ceiling,single,ray1,ray2",
                        help="comma list of: ceiling, single, ray1, ray2, dynamic")
    parser.add_argument("--ceiling-frames", type=int, default=48, help="frames preloaded for the ceiling")
    parser.add_argument("--dynamic", default="0.5,10", help="threshold,margin for the dynamic path")
    parser.add_argument("--dlc-python", help="python of a venv with deeplabcut==3.0.2, to run it side by side")
    parser.add_argument("--dlc-batch-size", type=int, default=4)
    parser.add_argument("--dlc-config", help="DeepLabCut's config.yaml for the same weights (default: "
                        "--config; for a posering model, the folder `posering export-dlc` wrote)")
    parser.add_argument("--tracked", type=float, default=0.5, help="likelihood above which a point is tracked")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--out", default=None, help="write the rows as JSON here")
    return parser.parse_args(argv)


def ceiling(config: str, video: str, shuffle: int, batch_size: int, precision: str, frames: int) -> float:
    """Frames/s of the model alone on frames already in memory (after one warm-up batch)."""
    from posering.analyze.predictor import load_predictor
    from posering.project import load_config
    from posering.project.models import resolve_model
    from posering.video import VideoReader

    predictor, _ = load_predictor(resolve_model(load_config(config), shuffle), "auto", precision)
    with VideoReader(video) as reader:
        batch = np.stack([frame for _, frame in reader.frames(0, frames)])
    predictor(batch[:batch_size])
    _, seconds = timed(lambda: [predictor(batch[i:i + batch_size]) for i in range(0, frames, batch_size)])
    return frames / seconds


def _concrete(precision: str, config: str, video: str, shuffle: int) -> str:
    """What "auto" means for this model here, decided once so every path runs alike."""
    if precision != "auto":
        return precision
    from posering.analyze.precision import choose_precision
    from posering.project import load_config
    from posering.project.models import resolve_model

    return choose_precision(resolve_model(load_config(config), shuffle), video, "auto")


def run_path(config: str, video: str, out: Path, **options) -> tuple[float, pd.DataFrame]:
    from posering.analyze.analyze_videos import analyze_videos
    from posering.video import probe

    scorer, seconds = timed(analyze_videos, config, [video], destfolder=str(out), overwrite=True, **options)
    poses = pd.read_hdf(out / f"{Path(video).stem}{scorer}.h5", "df_with_missing")
    return probe(video).frame_count / seconds, poses


def run_dlc(python: str, config: str, video: str, out: Path, batch: int, threads: int,
            dynamic: tuple | None) -> tuple[float, pd.DataFrame]:
    from posering.video import probe

    args = [python, "-c", DLC_SCRIPT, config, video, str(out), str(batch), str(threads)]
    if dynamic:
        args += [str(dynamic[0]), str(dynamic[1])]
    stdout, wall = run_external(args)
    (h5,) = [p for p in out.glob(f"{Path(video).stem}DLC_*.h5")]
    poses = pd.read_hdf(h5, "df_with_missing")
    h5.replace(out / f"{Path(video).stem}-deeplabcut.h5")  # kept for a look, out of the next run's glob
    return probe(video).frame_count / wall, poses


def max_px_difference(a: pd.DataFrame, b: pd.DataFrame, min_likelihood: float = 0.0) -> float:
    """Largest distance between two runs' points, over points both find with min_likelihood."""
    pa, pb = a.to_numpy().reshape(len(a), -1, 3), b.to_numpy().reshape(len(b), -1, 3)
    tracked = (pa[..., 2] >= min_likelihood) & (pb[..., 2] >= min_likelihood)
    distance = np.linalg.norm(pa[..., :2] - pb[..., :2], axis=-1)[tracked]
    return float(distance.max()) if distance.size else float("nan")


def share_within(a: pd.DataFrame, b: pd.DataFrame, px: float, min_likelihood: float) -> str:
    """Of the points both runs track, the share within px pixels of each other."""
    pa, pb = a.to_numpy().reshape(len(a), -1, 3), b.to_numpy().reshape(len(b), -1, 3)
    tracked = (pa[..., 2] >= min_likelihood) & (pb[..., 2] >= min_likelihood)
    distance = np.linalg.norm(pa[..., :2] - pb[..., :2], axis=-1)[tracked]
    return f"{100 * (distance <= px).mean():.1f}%" if distance.size else ""


def compared(poses: pd.DataFrame, reference: pd.DataFrame | None, tracked: float) -> dict:
    """A row's accuracy columns: distances to the first path's poses (when there is one) and
    the share of points tracked."""
    row = {f"points tracked (p>={tracked})": f"{100 * tracked_share(poses, tracked):.0f}%"}
    if reference is not None:
        row["max px vs first path"] = max_px_difference(poses, reference)
        row[f"max px where tracked (p>={tracked})"] = max_px_difference(poses, reference, tracked)
        row["tracked within 2 px"] = share_within(poses, reference, 2.0, tracked)
    return row


def tracked_share(poses: pd.DataFrame, min_likelihood: float) -> float:
    return float((poses.to_numpy().reshape(len(poses), -1, 3)[..., 2] >= min_likelihood).mean())


def main(argv: list[str] | None = None) -> list[dict]:
    args = _args(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="posering-bench-analyze-"))
    config = args.config or str(dlc3_project(work))
    video = args.video or str(Path(config).parent / "videos" / "m3v1mp4_clip600.mp4")
    threshold, margin = (float(v) for v in args.dynamic.split(","))
    paths = args.paths.split(",")
    rows: list[dict] = []
    precision = _concrete(args.precision, config, video, args.shuffle)
    common = dict(shuffle=args.shuffle, batch_size=args.batch_size, precision=precision)
    if "ceiling" in paths:
        fps = ceiling(config, video, args.shuffle, args.batch_size, precision, args.ceiling_frames)
        rows.append({"path": f"raw model, frames in memory (ceiling), {precision}", "frames/s": fps})
    reference = None
    for name, options in (("single", {"num_workers": 0}), ("ray1", {"num_workers": 1}),
                          ("ray2", {"num_workers": 2}),
                          ("dynamic", {"num_workers": 1, "dynamic": (True, threshold, int(margin))})):
        if name not in paths:
            continue
        if name.startswith("ray") or name == "dynamic":
            from posering.ray_utils import ensure_ray

            ensure_ray()  # cluster start-up is a one-time cost, not the path's
        fps, poses = run_path(config, video, work / name, **common, **options)
        row = {"path": {"single": "single process", "ray1": "Ray, 1 worker", "ray2": "Ray, 2 workers",
                        "dynamic": f"Ray, 1 worker, dynamic ({threshold}, {int(margin)})"}[name], "frames/s": fps}
        row.update(compared(poses, reference, args.tracked))
        reference = poses if reference is None else reference
        rows.append(row)
    if args.dlc_python:
        dlc_config = args.dlc_config or config
        fps, poses = run_dlc(args.dlc_python, dlc_config, video, work / "dlc", args.dlc_batch_size, args.threads, None)
        rows.append({"path": f"DeepLabCut 3.0.2, batch {args.dlc_batch_size}", "frames/s": fps,
                     **compared(poses, reference, args.tracked)})
        if "dynamic" in paths:
            fps, poses = run_dlc(args.dlc_python, dlc_config, video, work / "dlc-dyn", 1, args.threads,
                                 (threshold, int(margin)))
            rows.append({"path": f"DeepLabCut 3.0.2, dynamic ({threshold}, {int(margin)})", "frames/s": fps,
                         **compared(poses, reference, args.tracked)})
    top = next((r["frames/s"] for r in rows if "ceiling" in r["path"]), None)
    for row in rows:
        if top:
            row["share of ceiling"] = f"{100 * row['frames/s'] / top:.0f}%"
    print(table(rows, ["path", "frames/s", "share of ceiling", "max px vs first path",
                       f"max px where tracked (p>={args.tracked})", "tracked within 2 px",
                       f"points tracked (p>={args.tracked})"]))
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))
    return rows


if __name__ == "__main__":
    main()
