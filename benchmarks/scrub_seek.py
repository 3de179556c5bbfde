"""Scrubbing a long video for manual extraction: preview and exact-frame latency against naive seeks.

    python -m benchmarks.scrub_seek --minutes 60 --workdir /tmp/scrub-bench [--samples 30]

The video is 1080p, 30 fps H.264 as x264 writes it by default (preset medium, crf 23, a keyframe
every 250 frames, B-frames), with content that makes the codec work: a textured background that
pans, a dark blob that moves over it, and camera-like noise (about 6 Mbit/s).

OpenCV cannot write it: opencv-python-headless's FFmpeg has no H.264 encoder (only a V4L2 hardware
one), so the ``ffmpeg`` program encodes frames that OpenCV and numpy draw (Debian's ``apt-get
install ffmpeg``, or the binary of the ``imageio-ffmpeg`` wheel when that is installed; neither is
a posering dependency). x264 encodes 1080p at under 10 frames/s on two cores, so an hour would take
hours: one 25-second segment (three whole keyframe intervals) is encoded and the hour is that
segment repeated by stream copy, which decodes and seeks exactly as one long recording does.

Measured on random targets over the whole video: the one-time cost of the keyframe index (cold, then
from its cache), ``Scrubber.preview`` latency, ``Scrubber.exact`` latency (with no preview before,
on release right after a preview of the same frame, which is how the Extract view calls it, and
after the slider rested on it), one frame back, and ``VideoReader.read`` (one OpenCV seek per frame,
the naive way) for comparison. Beside the seconds, the frames each call decoded: the seconds
follow from those and the decoding rate, which a busy machine lowers.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import time

import cv2
import numpy as np

SIZE = (1920, 1080)
FPS = 30
SEGMENT_FRAMES = 750  # three x264 keyframe intervals (keyint 250): the copies keep the spacing


def ffmpeg_program() -> str:
    """An ffmpeg with libx264: on PATH, else the one the imageio-ffmpeg wheel ships."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except ImportError:
        raise SystemExit("this benchmark needs an ffmpeg program with libx264 to write H.264 (OpenCV "
                         "cannot): `apt-get install ffmpeg` or `pip install imageio-ffmpeg`") from None


def _segment_frames(count: int):
    """Frames with work for the codec: a panning texture, a moving blob, per-frame noise."""
    width, height = SIZE
    rng = np.random.default_rng(0)
    coarse = rng.integers(0, 256, (height // 3, width // 3, 3), np.uint8)
    texture = cv2.GaussianBlur(cv2.resize(coarse, (2 * width, 2 * height), interpolation=cv2.INTER_CUBIC),
                               (0, 0), 1.2)
    noise = [rng.normal(0, 3, (height, width, 3)).astype(np.int16) for _ in range(7)]
    for i in range(count):
        x = int(width / 2 + width / 2 * np.sin(i / 97))
        y = int(height / 2 + height / 2 * np.sin(i / 61 + 1))
        frame = np.clip(texture[y:y + height, x:x + width].astype(np.int16) + noise[i % 7], 0, 255)
        frame = np.ascontiguousarray(frame.astype(np.uint8))
        centre = (int(width / 2 + 600 * np.sin(i / 23)), int(height / 2 + 300 * np.cos(i / 17)))
        cv2.ellipse(frame, centre, (90, 50), i * 3 % 360, 0, 360, (40, 40, 40), -1)
        yield frame


def make_video(workdir: str, minutes: float) -> tuple[str, dict]:
    """The benchmark video (made once per workdir) and what making it cost."""
    copies = max(1, round(minutes * 60 * FPS / SEGMENT_FRAMES))
    target = os.path.join(workdir, f"scrub-{copies * SEGMENT_FRAMES}f-1080p.mp4")
    if os.path.exists(target):
        return target, {}
    os.makedirs(workdir, exist_ok=True)
    ffmpeg = ffmpeg_program()
    segment = os.path.join(workdir, "segment-1080p.mp4")
    started = time.perf_counter()
    encoder = subprocess.Popen(
        [ffmpeg, "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{SIZE[0]}x{SIZE[1]}",
         "-r", str(FPS), "-i", "-", "-c:v", "libx264", "-pix_fmt", "yuv420p", segment],
        stdin=subprocess.PIPE)
    for frame in _segment_frames(SEGMENT_FRAMES):
        encoder.stdin.write(frame.tobytes())
    encoder.stdin.close()
    if encoder.wait() != 0:
        raise SystemExit("ffmpeg failed to encode the segment")
    encoded = time.perf_counter() - started
    listing = os.path.join(workdir, "segments.txt")
    with open(listing, "w") as handle:
        handle.writelines(f"file '{os.path.basename(segment)}'\n" for _ in range(copies))
    partial = target + ".part.mp4"
    subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", listing,
                    "-c", "copy", partial], check=True)
    os.replace(partial, target)
    return target, {"segment_frames": SEGMENT_FRAMES, "segment_encode_s": round(encoded, 1),
                    "encode_fps": round(SEGMENT_FRAMES / encoded, 1),
                    "concat_s": round(time.perf_counter() - started - encoded, 1),
                    "size_mib": round(os.path.getsize(target) / 2**20)}


def _stats(seconds: list[float], decoded: list[int]) -> dict:
    values = np.asarray(seconds)
    return {"p50_s": float(np.percentile(values, 50)), "p95_s": float(np.percentile(values, 95)),
            "max_s": float(values.max()), "decoded_p50": int(np.percentile(decoded, 50)),
            "decoded_max": int(max(decoded))}


def _timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def decode_rates(video: str, frames: int = 300) -> dict:
    """Sequential decoding speed (grab: decode only; read: also converted to BGR) by thread count."""
    rates = {}
    for threads in (1, 2):
        for mode in ("grab", "read"):
            capture = cv2.VideoCapture(video, cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, threads])
            started = time.perf_counter()
            for _ in range(frames):
                ok = capture.grab() if mode == "grab" else capture.read()[0]
                if not ok:
                    break
            rates[f"{mode}_fps_{threads}_threads"] = round(frames / (time.perf_counter() - started))
            capture.release()
    return rates


class _Counted:
    """Calls on a Scrubber, with their seconds and the frames each decoded."""

    def __init__(self, scrubber):
        self.scrubber, self.seconds, self.decoded = scrubber, [], []

    def __call__(self, method, *args):
        before = self.scrubber.decoded_frames
        result, spent = _timed(getattr(self.scrubber, method), *args)
        self.seconds.append(spent)
        self.decoded.append(self.scrubber.decoded_frames - before)
        return result


def measure(video: str, samples: int, seed: int, rest_s: float) -> tuple[list[dict], dict]:
    from posering import storage
    from posering.video import VideoReader
    from posering.video.keyframes import cache_location
    from posering.video.scrub import SEEK_LOOKBACK, Scrubber

    if storage.exists(cache_location(video)):
        storage.remove(cache_location(video))
    scrubber, cold = _timed(Scrubber, video)
    scrubber.close()
    scrubber, warm = _timed(Scrubber, video)
    rng = random.Random(seed)
    # Each measurement gets its own targets: a frame decoded before is kept and would cost nothing.
    previews, jumps, releases, rests = (
        [rng.randrange(SEGMENT_FRAMES, scrubber.nframes) for _ in range(samples)] for _ in range(4))
    rows = []
    with scrubber:
        call = _Counted(scrubber)
        shown = [call("preview", target)[0] for target in previews]
        distances = [target - index for target, index in zip(previews, shown)]
        rows.append({"call": "preview(random frame)", **_stats(call.seconds, call.decoded), "goal": "0.3 s"})
        call = _Counted(scrubber)
        for target in jumps:
            call("exact", target)
        rows.append({"call": "exact(random frame), no preview before", **_stats(call.seconds, call.decoded)})
        call, back = _Counted(scrubber), _Counted(scrubber)
        for target in releases:
            scrubber.preview(target)
            call("exact", target)
            back("exact", target - 1)
        rows.append({"call": "exact right after a preview of it (slider released)",
                     **_stats(call.seconds, call.decoded), "goal": "1 s"})
        rows.append({"call": "exact(frame - 1) after that (Left key)", **_stats(back.seconds, back.decoded)})
        call = _Counted(scrubber)
        for target in rests:
            scrubber.preview(target)
            time.sleep(rest_s)
            call("exact", target)
        rows.append({"call": f"exact after the slider rested {rest_s} s on it", **_stats(call.seconds, call.decoded),
                     "goal": "1 s"})
        naive_cost = [t - scrubber.index.keyframe_at_or_before(t - SEEK_LOOKBACK) + 1 for t in jumps]
    with VideoReader(video) as reader:
        naive = [_timed(reader.read, target)[1] for target in jumps]
    rows.append({"call": "VideoReader.read(random frame), one OpenCV seek", **_stats(naive, naive_cost)})
    facts = {"frames": scrubber.nframes, "keyframes": len(scrubber.index.keyframes),
             "index_cold_s": round(cold, 2), "index_cached_s": round(warm, 3),
             "preview_frames_before_target_p50": int(np.percentile(distances, 50)),
             "preview_frames_before_target_max": int(max(distances))}
    return rows, facts


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--workdir", default="/tmp/scrub-bench")
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--rest", type=float, default=0.5, help="seconds the slider rests before release")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault("POSERING_CACHE", os.path.join(args.workdir, "cache"))
    from benchmarks._shared import table

    video, making = make_video(args.workdir, args.minutes)
    print(f"video: {video} {making or '(already made)'}")
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    print(f"decoding 1080p sequentially: {decode_rates(video)}")
    rows, facts = measure(video, args.samples, args.seed, args.rest)
    print(f"index and preview: {facts}")
    print(table(rows, ["call", "p50_s", "p95_s", "max_s", "decoded_p50", "decoded_max", "goal"]))
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
