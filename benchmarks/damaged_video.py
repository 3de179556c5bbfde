"""Reading a damaged video: what finding the frames past a damaged stretch costs.

    python -m benchmarks.damaged_video [--video PATH] [--at 0.4] [--length 0.05] [--workdir /tmp]

A copy of the video (default: the openfield m3v1mp4.mp4, 2330 frames of H.264) has a stretch of
its frame data overwritten with zeros (``--at`` and ``--length`` are fractions of the data before
the mp4's index). Measured for the whole video and the damaged copy: counting the frames
(``VideoReader.frame_count``), reading every frame that decodes (``frames(skip_damaged=True)``),
and, for the damaged copy, the seeks and seconds spent finding where decoding can resume.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchmarks._shared import shared_data
from posering.video import VideoReader


def damaged_copy(video: Path, target: Path, at: float, length: float) -> Path:
    data = bytearray(video.read_bytes())
    end = data.find(b"moov") - 4
    if end < 0 or data.find(b"mdat") > end:
        raise SystemExit(f"{video}: an mp4 with its index after the frames is needed")
    first, size = int(end * at), int(end * length)
    data[first:first + size] = bytes(size)
    target.write_bytes(bytes(data))
    return target


def measure(video: Path) -> dict:
    seeks, searching = [0], [0.0]
    reader = VideoReader(str(video))
    readable, first_readable = reader._readable, reader._first_readable

    def counted(index: int) -> bool:
        seeks[0] += 1
        return readable(index)

    def timed(low: int, high: int):
        started = time.perf_counter()
        try:
            return first_readable(low, high)
        finally:
            searching[0] += time.perf_counter() - started

    reader._readable, reader._first_readable = counted, timed
    with reader:
        started = time.perf_counter()
        frames = reader.frame_count
        counted_s = time.perf_counter() - started
        seeks[0] = 0
        started = time.perf_counter()
        read = sum(1 for _ in reader.frames(skip_damaged=True))
        return {"header": reader.metadata_frame_count, "frames": frames, "count_s": round(counted_s, 2),
                "read": read, "read_s": round(time.perf_counter() - started, 2), "skipped": reader.skipped,
                "search_seeks": seeks[0], "search_s": round(searching[0], 2)}


def main(argv: list[str] | None = None) -> dict[str, dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", default=None, help="an mp4 (default: the openfield m3v1mp4.mp4)")
    parser.add_argument("--at", type=float, default=0.4, help="where the damage starts (fraction of the data)")
    parser.add_argument("--length", type=float, default=0.05, help="how much is damaged (fraction of the data)")
    parser.add_argument("--workdir", default="/tmp", help="where the damaged copy is written")
    args = parser.parse_args(argv)
    video = Path(args.video or shared_data() / "openfield-Pranav-2018-10-30" / "videos" / "m3v1mp4.mp4")
    damaged = damaged_copy(video, Path(args.workdir) / f"damaged-{video.name}", args.at, args.length)
    results = {"whole": measure(video), "damaged": measure(damaged)}
    for name, result in results.items():
        print(name, result)
    return results


if __name__ == "__main__":
    main()
