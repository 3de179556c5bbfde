"""What exact seeks cost: VideoReader against OpenCV's own seek, on a regular video and on a copy
with dropped frames.

    python -m benchmarks.irregular_video_seeks [--video PATH] [--reads 40] [--workdir /tmp]

The copy is the video (default: the openfield m3v1mp4.mp4, 2330 frames of H.264) re-encoded with
x264 by the ``ffmpeg`` program, 5 of every 50 frames dropped and the others keeping their times.
For each video, in one run: opening it and counting its frames (on the copy this includes the
keyframe index's demux pass, which is then cached), ``--reads`` random ``read(i)``, and
``frames()`` over 300 frames from the middle; the same random reads and range by OpenCV's own
seek (``CAP_PROP_POS_FRAMES``), and how many of OpenCV's frames are not the frame of that index.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import cv2
import numpy as np

from benchmarks._shared import shared_data
from posering import storage
from posering.video import VideoReader
from posering.video.keyframes import cache_location
from tests.ffmpeg_streams import DROP_FIVE_IN_FIFTY, x264


def _opencv(video: str, picks: list[int], start: int, stop: int) -> tuple[float, float, list[np.ndarray]]:
    capture = cv2.VideoCapture(video)
    started = time.perf_counter()
    frames = []
    for index in picks:
        capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        frames.append(cv2.cvtColor(capture.read()[1], cv2.COLOR_BGR2RGB))
    reads_s = time.perf_counter() - started
    started = time.perf_counter()
    capture.set(cv2.CAP_PROP_POS_FRAMES, start)
    for _ in range(start, stop):
        capture.read()
    range_s = time.perf_counter() - started
    capture.release()
    return reads_s, range_s, frames


def measure(video: str, reads: int) -> dict:
    if storage.exists(cache_location(video)):
        storage.remove(cache_location(video))  # the first open pays for the index pass
    started = time.perf_counter()
    with VideoReader(video) as reader:
        count = reader.frame_count
        open_s = time.perf_counter() - started
        picks = random.Random(0).sample(range(count), reads)
        start, stop = count // 2, count // 2 + 300
        started = time.perf_counter()
        exact = [reader.read(i) for i in picks]
        reads_s = time.perf_counter() - started
        started = time.perf_counter()
        sum(1 for _ in reader.frames(start, stop))
        range_s = time.perf_counter() - started
    cv_reads_s, cv_range_s, opencv = _opencv(video, picks, start, stop)
    return {"frames": count, "open_and_count_s": round(open_s, 3), "index_built": storage.exists(cache_location(video)),
            "reads_s": round(reads_s, 2), "opencv_reads_s": round(cv_reads_s, 2),
            "range_s": round(range_s, 2), "opencv_range_s": round(cv_range_s, 2),
            "opencv_wrong_frames": sum(not np.array_equal(a, b) for a, b in zip(exact, opencv))}


def main(argv: list[str] | None = None) -> dict[str, dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", default=None, help="a video (default: the openfield m3v1mp4.mp4)")
    parser.add_argument("--reads", type=int, default=40, help="random read(i) per video")
    parser.add_argument("--workdir", default="/tmp", help="where the copy with dropped frames is written")
    args = parser.parse_args(argv)
    video = Path(args.video or shared_data() / "openfield-Pranav-2018-10-30" / "videos" / "m3v1mp4.mp4")
    dropped = x264(Path(args.workdir) / f"dropped-{video.stem}.mp4", DROP_FIVE_IN_FIFTY, params="keyint=250",
                   count=10**9, source=str(video))
    results = {"regular": measure(str(video), args.reads), "dropped frames": measure(dropped, args.reads)}
    for name, result in results.items():
        print(name, result)
    return results


if __name__ == "__main__":
    main()
