"""Peak memory of an analysis worker against video length (it must not grow with the video).

    posering bench analyze-memory --minutes 1 30

Renders synthetic 640x480 videos of each length once (into --workdir), analyzes each on one Ray
worker with a small untrained network (memory, not accuracy, is measured), and prints the
worker's resident memory from the run metadata: after its first and its last shard of the
video, the largest after any shard, and its peak (``ru_maxrss``, model loading included).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import yaml

from posering.bench._shared import random_model_project, table, timed


def main(argv: list[str] | None = None) -> list[dict]:
    from posering.analyze.analyze_videos import analyze_videos
    from posering.demo.synthetic import Scene, render_video

    parser = argparse.ArgumentParser(prog="posering bench analyze-memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 30])
    parser.add_argument("--net-type", default="mobilenet_v4_small")
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="posering-bench-memory-"))
    config = random_model_project(work, args.net_type)
    rows = []
    for minutes in args.minutes:
        video = work / f"synthetic-{minutes:g}min.mp4"
        frames = int(minutes * 60 * 30)
        if not video.exists():
            render_video(str(video), Scene(width=640, height=480, nframes=frames, body_length=110))
        out = work / f"out-{minutes:g}"
        scorer, seconds = timed(analyze_videos, config, [str(video)], num_workers=1, destfolder=str(out),
                                overwrite=True, precision="fp32")
        run = yaml.safe_load((out / f"{video.stem}{scorer}_meta.yaml").read_text())["run"]
        rss = run["worker_rss_mb"]
        rows.append({"video": f"{minutes:g} min ({frames} frames, 640x480)", "shards": rss["units"],
                     "frames/s": frames / seconds, "RSS after first shard": rss["after_first_unit"],
                     "RSS after last shard": rss["after_last_unit"], "largest after a shard": rss["largest"],
                     "peak RSS": run["worker_peak_rss_mb"]})
    print(table(rows, COLUMNS))
    return rows


COLUMNS = ["video", "shards", "frames/s", "RSS after first shard", "RSS after last shard",
           "largest after a shard", "peak RSS"]


if __name__ == "__main__":
    main()
