"""Memory of an analysis worker against video length (it must not grow with the video).

    python -m benchmarks.analyze_memory --minutes 1 30 --plot docs/img/analysis_worker_rss.png

Renders synthetic 640x480 videos of each length once (into --workdir) and analyzes each on one
Ray worker with a small untrained network (memory, not accuracy, is measured). While a video is
analysed, the resident memory of the worker process (``ray::PoseWorker``) is sampled from
/proc twice a second. Printed per video: the worker's memory after its first and its last shard
(from the run metadata), the median and largest sample over the second half of the run, and
the worker's peak (``ru_maxrss``, model loading included). ``--plot`` draws the samples over
the worker's life, from its start to the video's last frame.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import yaml

from benchmarks._shared import table, timed
from tests.random_model import random_model_project

COLUMNS = ["video", "shards", "frames/s", "RSS after first shard", "RSS after last shard",
           "median, 2nd half", "largest, 2nd half", "peak RSS"]


class WorkerMemory:
    """Samples the resident memory (MiB) of this machine's analysis workers in a thread."""

    def __init__(self, interval: float = 0.5):
        self.interval = interval
        self.samples: list[tuple[float, float]] = []  # (seconds since start, largest worker RSS)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "WorkerMemory":
        self._started = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        from posering.analyze.worker import resident_mb

        while not self._stop.wait(self.interval):
            sizes = [rss for rss in map(resident_mb, _worker_pids()) if rss]
            if sizes:
                self.samples.append((time.perf_counter() - self._started, max(sizes)))


def _worker_pids() -> list[int]:
    """Processes whose title Ray set to one of PoseWorker's (ray::PoseWorker, ray::PoseWorker.run)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    if cmdline.read(64).startswith(b"ray::PoseWorker"):
                        pids.append(int(entry))
            except OSError:  # the process ended meanwhile
                continue
    return pids


def _second_half(samples: list[tuple[float, float]]) -> list[float]:
    """The samples of the second half of the worker's life (far from model loading)."""
    if not samples:
        return [float("nan")]
    middle = (samples[0][0] + samples[-1][0]) / 2
    return [rss for t, rss in samples if t >= middle]


def plot(series: dict[str, list[tuple[float, float]]], location: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 3.6), dpi=110)
    axes = figure.subplots()
    for label, samples in series.items():
        if len(samples) > 1:
            first, span = samples[0][0], samples[-1][0] - samples[0][0]
            axes.plot([100 * (t - first) / span for t, _ in samples], [rss for _, rss in samples],
                      label=label, lw=1.2)
    axes.set_xlabel("share of the worker's life, model loading included (%)")
    axes.set_ylabel("worker resident memory (MiB)")
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    axes.set_title("One Ray analysis worker, 640x480 video")
    figure.tight_layout()
    figure.savefig(location)


def main(argv: list[str] | None = None) -> list[dict]:
    from posering.analyze.analyze_videos import analyze_videos
    from posering.demo.synthetic import Scene, render_video

    parser = argparse.ArgumentParser(prog="python -m benchmarks.analyze_memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 30])
    parser.add_argument("--net-type", default="mobilenet_v4_small")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--plot", default=None, help="write the memory samples' plot here (.png)")
    args = parser.parse_args(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="posering-bench-memory-"))
    config = random_model_project(work, args.net_type)
    rows, series = [], {}
    for minutes in args.minutes:
        video = work / f"synthetic-{minutes:g}min.mp4"
        frames = int(minutes * 60 * 30)
        if not video.exists():
            render_video(str(video), Scene(width=640, height=480, nframes=frames, body_length=110))
        out = work / f"out-{minutes:g}"
        with WorkerMemory() as memory:
            scorer, seconds = timed(analyze_videos, config, [str(video)], num_workers=1, destfolder=str(out),
                                    overwrite=True, precision="fp32")
        run = yaml.safe_load((out / f"{video.stem}{scorer}_meta.yaml").read_text())["run"]
        rss, late = run["worker_rss_mb"], _second_half(memory.samples)
        label = f"{minutes:g} min ({frames} frames, 640x480)"
        series[label] = memory.samples
        rows.append({"video": label, "shards": rss["units"], "frames/s": frames / seconds,
                     "RSS after first shard": rss["after_first_unit"], "RSS after last shard": rss["after_last_unit"],
                     "median, 2nd half": statistics.median(late), "largest, 2nd half": max(late),
                     "peak RSS": run["worker_peak_rss_mb"]})
    print(table(rows, COLUMNS))
    if args.plot:
        plot(series, args.plot)
        print(f"plot: {args.plot}")
    return rows


if __name__ == "__main__":
    main()
