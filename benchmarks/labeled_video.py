"""Frames per second of create_labeled_video's fast path (OpenCV drawing) on a real video.

    python -m benchmarks.labeled_video                 # the openfield video of ../shared/data
    python -m benchmarks.labeled_video --video v.mp4 --poses v_poses.h5 --workers 0 2 4

The poses: an analysis file given with ``--poses``, or, by default, a plausible table made by
following the dark animal on the light floor (the openfield mouse): the body's dark blob gives
the centre and the long axis, the thin tail beside it says which end is the back, and
snout, ears and tail base are placed on that axis. Good enough to look like tracking and to
exercise the drawing; it is not pose estimation.

Each run writes a labeled video (dots, skeleton, 5-frame trail) and prints frames/s for:
``0`` workers (one pass in this process: decode, draw and encode overlap in three threads) and
each Ray worker count (frame ranges as Ray tasks, joined in order into the mp4).
``--save-frames`` times the matplotlib path instead (with its PNGs); ``--frames N`` only the
first N frames.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time

import cv2
import numpy as np
import pandas as pd

from benchmarks._shared import shared_data_location
from posering.post.poses import from_arrays, to_arrays
from posering.video import VideoReader
from posering.viz.draw import PoseStyle, visible_points
from posering.viz.render import RenderJob, render_whole

OPENFIELD = shared_data_location() / "openfield-Pranav-2018-10-30" / "videos" / "m3v1mp4.mp4"
BODYPARTS = ["snout", "leftear", "rightear", "tailbase"]
SKELETON = [["snout", "leftear"], ["snout", "rightear"], ["leftear", "tailbase"], ["rightear", "tailbase"]]


def track_dark_animal(video: str, threshold: int = 60, tail_threshold: int = 120) -> pd.DataFrame:
    """A pose table (snout, ears, tail base) following the largest dark blob of each frame."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (11, 11))
    rows, last, last_centre = [], None, None
    with VideoReader(video) as reader:
        for _, frame in reader.frames():
            gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
            dark = (gray < threshold).astype(np.uint8)
            body = cv2.morphologyEx(dark, cv2.MORPH_OPEN, kernel)  # the tail is thinner: gone
            count, labels, stats, _ = cv2.connectedComponentsWithStats(body)
            if count < 2:  # nothing dark enough: keep the last points, with a low likelihood
                held = last if last is not None else np.zeros((4, 3))
                rows.append(np.column_stack([held[:, :2], np.full(4, 0.02)]))
                continue
            blob = labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
            ys, xs = np.nonzero(blob)
            centre = np.array([xs.mean(), ys.mean()])
            values, vectors = np.linalg.eigh(np.cov(np.stack([xs, ys])))
            axis, side = vectors[:, 1], vectors[:, 0]
            half_length, half_width = 2.0 * np.sqrt(values[1]), 2.0 * np.sqrt(values[0])
            # The tail: dark pixels outside the (grown) body; they lie behind the animal.
            grown = cv2.dilate(blob.astype(np.uint8), kernel).astype(bool)
            # The tail is paler than the body: a looser threshold, outside the body, close by.
            ty, tx = np.nonzero((gray < tail_threshold) & ~grown)
            offsets = np.stack([tx, ty], 1) - centre
            along, across = offsets @ axis, np.abs(offsets @ side)
            near = along[(np.abs(along) < 3 * half_length) & (across < half_length)]
            tail_seen = len(near) > 40 and abs(np.sign(near).mean()) > 0.6
            moved = centre - last_centre if last_centre is not None else np.zeros(2)
            running = not tail_seen and np.linalg.norm(moved) > 3.0
            if tail_seen:
                back = axis * np.sign(near.sum())
            else:  # a running mouse runs head first
                back = axis * (-np.sign(moved @ axis) if running else 1.0)
            last_centre = centre
            points = np.array([
                centre - back * half_length * 0.95,
                centre - back * half_length * 0.45 + side * half_width * 0.7,
                centre - back * half_length * 0.45 - side * half_width * 0.7,
                centre + back * half_length * 0.9,
            ])
            flipped = last is not None and (np.linalg.norm(points[0] - last[0, :2])
                                            > np.linalg.norm(points[3] - last[0, :2]))
            if flipped and not (tail_seen or running):
                points = points[[3, 2, 1, 0]]  # no tail in sight: keep the head where it was
            last = np.column_stack([points, np.full(4, 0.95)])
            rows.append(last)
    poses = np.stack(rows)
    return from_arrays(poses[..., 0], poses[..., 1], poses[..., 2], "DLC_bench_tracker", BODYPARTS)


def _job(video: str, poses: pd.DataFrame, out: str, matplotlib: bool = False) -> tuple[RenderJob, np.ndarray]:
    style = PoseStyle.make(BODYPARTS, "jet", 8, 0.7, 0.4, SKELETON, "black", trailpoints=5)
    with VideoReader(video) as reader:
        nframes, fps, size = reader.frame_count, reader.fps, reader.size
    x, y, p = to_arrays(poses, BODYPARTS)
    points = visible_points(np.stack([x, y], -1), p, style.pcutoff)[:nframes]
    parts = os.path.join(os.path.dirname(out), ".parts-" + os.path.basename(out))
    frames_dir = out[: -len(".mp4")] + "-frames" if matplotlib else None
    return RenderJob(video, out, parts, nframes, fps, size, style, frames_dir=frames_dir), points


def _warm_up(i: int) -> int:
    """Workers import the drawing modules before the clock starts (seconds on a busy machine)."""
    import posering.viz.frame_figure  # noqa: F401
    import posering.viz.create_labeled_video  # noqa: F401

    return i


def _on_ray(job: RenderJob, points: np.ndarray, workers: int) -> float:
    """Seconds to render on a local Ray instance of `workers` CPUs (start-up and imports not counted)."""
    import ray

    from posering.ray_utils import run_tasks
    from posering.viz.create_labeled_video import _segment_size, render_video_on_ray

    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    try:
        run_tasks(_warm_up, [(i,) for i in range(2 * workers)])
        start = time.perf_counter()
        size = _segment_size(job.nframes, workers, matplotlib=job.frames_dir is not None)
        run_tasks(render_video_on_ray, [(job, points, size)])
        return time.perf_counter() - start
    finally:
        ray.shutdown()


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run the benchmark; returns {'frames': n, 'workers_<k>_fps': frames/s, ...}."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", default=str(OPENFIELD), help="the video (default: openfield m3v1mp4)")
    parser.add_argument("--poses", default=None, help="an analysis .h5 for the video (default: track the animal)")
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2], help="0 = in process; k = k Ray workers")
    parser.add_argument("--out", default=None, help="folder for the labeled videos (default: a temporary one)")
    parser.add_argument("--save-frames", action="store_true", help="time the matplotlib path (save_frames=True)")
    parser.add_argument("--frames", type=int, default=None, help="only the first N frames")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    poses = pd.read_hdf(args.poses, "df_with_missing") if args.poses else track_dark_animal(args.video)
    print(f"poses: {len(poses)} frames ({'file' if args.poses else 'tracked'} in {time.perf_counter() - t0:.1f} s)")
    out_dir = args.out or tempfile.mkdtemp(prefix="posering-bench-")
    results: dict[str, float] = {"frames": float(len(poses))}
    for workers in args.workers:
        out = os.path.join(out_dir, f"labeled-w{workers}.mp4")
        job, points = _job(args.video, poses, out, args.save_frames)
        if args.frames:
            job = dataclasses.replace(job, nframes=min(args.frames, job.nframes))
        if workers == 0:
            start = time.perf_counter()
            render_whole(job, points)
            seconds = time.perf_counter() - start
        else:
            seconds = _on_ray(job, points, workers)
        with VideoReader(out) as reader:
            assert reader.frame_count == job.nframes, (reader.frame_count, job.nframes)
        results[f"workers_{workers}_fps"] = job.nframes / seconds
        path = "matplotlib" if args.save_frames else "OpenCV"
        print(f"{path}, workers={workers}: {job.nframes} frames in {seconds:.1f} s = {job.nframes / seconds:.0f} frames/s "
              f"({os.cpu_count()} cores here) -> {out}")
    return results


if __name__ == "__main__":
    main()
