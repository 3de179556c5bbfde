"""posering against DeepLabCut 3.0.2 at its default and at its best batch size, in one run.

    python -m benchmarks.analyze_vs_deeplabcut --frames 200 --dlc-python /opt/dlc/bin/python
    python -m benchmarks.analyze_vs_deeplabcut --model tracker=/data/bench/openfield-r50/config.yaml,/data/bench/r50-dlc/config.yaml

Per model (DeepLabCut's weak openfield resnet_50 by default; ``--model name=posering config,
DeepLabCut config`` adds one, e.g. the tracking resnet_50 of docs/benchmarks.md exported with
``posering export_dlc``), on the first ``--frames`` frames of the openfield clip: posering full
frame in float32, full frame with precision "auto" (what it chose is printed), dynamic cropping
(auto); DeepLabCut full frame at batch 1, 4 (its default), 8 and 16, and its dynamic cropping
(batch 1). Paths alternate between the tools so that both see the same load. Wall time per path,
model loading included (posering in this process without Ray, DeepLabCut in a fresh process of
its venv); the precision probe and ONNX export are paid once before (``--cold`` includes them in
the first posering path) and reported apart. Accuracy: the share of all points within 2 px of
posering's float32 full-frame run.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks._shared import dlc3_project, table, timed
from benchmarks.analyze import run_dlc, run_path


def _args(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.analyze_vs_deeplabcut",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=200, help="first frames of the 600-frame clip")
    parser.add_argument("--model", action="append", default=[],
                        help="name=posering config.yaml,DeepLabCut config.yaml (repeatable)")
    parser.add_argument("--no-weak", action="store_true", help="leave out DeepLabCut's weak snapshot")
    parser.add_argument("--dlc-python", default="/opt/dlc/bin/python")
    parser.add_argument("--dlc-batches", default="1,4,8,16")
    parser.add_argument("--batch-size", type=int, default=8, help="posering's batch size")
    parser.add_argument("--dynamic", default="0.5,10")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--out", default=None, help="write the rows as JSON here")
    return parser.parse_args(argv)


def clip(source: str, target: Path, frames: int) -> str:
    """The first ``frames`` frames of ``source`` as a video both tools read."""
    from posering.video import VideoReader, probe
    from posering.video.writer import VideoWriter

    if target.exists():
        return str(target)
    info = probe(source)
    with VideoReader(source) as reader, VideoWriter(str(target), info.fps, (info.width, info.height)) as out:
        for _, frame in reader.frames(0, frames):
            out.write(frame)
    return str(target)


def within(poses: pd.DataFrame, reference: pd.DataFrame, px: float = 2.0) -> float:
    a = poses.to_numpy().reshape(len(poses), -1, 3)
    b = reference.to_numpy().reshape(len(reference), -1, 3)
    distance = np.linalg.norm(a[..., :2] - b[..., :2], axis=-1)
    return float((distance <= px).mean())


def bench_model(name: str, config: str, dlc_config: str, video: str, work: Path, args) -> list[dict]:
    from posering.analyze.precision import choose_precision
    from posering.project import load_config
    from posering.project.models import resolve_model

    threshold, margin = (float(v) for v in args.dynamic.split(","))
    dynamic = (True, threshold, int(margin))
    model_ref = resolve_model(load_config(config), 1)
    choice, probe_seconds = timed(choose_precision, model_ref, video, "cpu")
    rows, reference = [], None
    nframes = args.frames

    def posering(label, **options):
        nonlocal reference
        load = os.getloadavg()[0]
        fps, poses = run_path(config, video, work / name / label.replace(" ", "-"), num_workers=0,
                              batch_size=args.batch_size, **options)
        reference = poses if reference is None else reference
        rows.append({"model": name, "path": f"posering, {label}", "frames/s": fps,
                     "within 2 px of fp32": within(poses, reference), "load": load})

    def deeplabcut(batch, dyn=None):
        out = work / name / f"dlc-{batch}-{bool(dyn)}"
        shutil.rmtree(out, ignore_errors=True)  # DeepLabCut skips a video it finds analysed there
        load = os.getloadavg()[0]
        fps, poses = run_dlc(args.dlc_python, dlc_config, video, out, batch, args.threads, dyn)
        label = f"DeepLabCut 3.0.2, {'dynamic, ' if dyn else 'full frame, '}batch {batch}"
        rows.append({"model": name, "path": label, "frames/s": fps,
                     "within 2 px of fp32": within(poses, reference), "load": load})

    batches = [int(b) for b in args.dlc_batches.split(",")]
    posering("full frame, fp32", precision="fp32")
    deeplabcut(batches[0])
    posering(f"full frame, auto ({choice})", precision="auto")
    deeplabcut(batches[1] if len(batches) > 1 else 4)
    posering(f"dynamic {threshold},{int(margin)}, auto ({choice})", precision="auto", dynamic=dynamic)
    for batch in batches[2:]:
        deeplabcut(batch)
    deeplabcut(1, (threshold, int(margin)))
    dlc_rows = [r for r in rows if r["path"].startswith("DeepLabCut") and "dynamic" not in r["path"]]
    best = max(dlc_rows, key=lambda r: r["frames/s"])
    default = next((r for r in dlc_rows if r["path"].endswith("batch 4")), best)
    full_fp32 = rows[0]["frames/s"]
    for row in rows:
        row["vs DeepLabCut best"] = row["frames/s"] / best["frames/s"]
        row["vs DeepLabCut default (batch 4)"] = row["frames/s"] / default["frames/s"]
        row["vs posering fp32 full frame"] = row["frames/s"] / full_fp32
    rows.append({"model": name, "path": f"(precision probe: {choice}, {probe_seconds:.0f} s, once per snapshot; "
                 f"{nframes} frames)"})
    return rows


def main(argv: list[str] | None = None) -> list[dict]:
    args = _args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    work = Path(args.workdir or tempfile.mkdtemp(prefix="posering-bench-vs-dlc-"))
    work.mkdir(parents=True, exist_ok=True)
    weak = dlc3_project(work)
    video = clip(str(weak.parent / "videos" / "m3v1mp4_clip600.mp4"), work / f"openfield_first{args.frames}.mp4",
                 args.frames)
    models = [] if args.no_weak else [("weak", str(weak), str(weak))]
    for entry in args.model:
        name, configs = entry.split("=", 1)
        config, dlc_config = configs.split(",")
        models.append((name, config, dlc_config))
    rows = []
    started = time.perf_counter()
    for name, config, dlc_config in models:
        rows += bench_model(name, config, dlc_config, video, work, args)
    print(table(rows, ["model", "path", "frames/s", "vs DeepLabCut best", "vs DeepLabCut default (batch 4)",
                       "vs posering fp32 full frame", "within 2 px of fp32", "load"]))
    print(f"{time.perf_counter() - started:.0f} s in all")
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))
    return rows


if __name__ == "__main__":
    main()
