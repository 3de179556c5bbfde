"""Where a video's keyframes are, from one pass over its packets, cached per video.

Seeking in a long H.264 video costs the frames decoded from the keyframe before the target, so a
scrubber plans its seeks by the keyframes. OpenCV finds them without decoding: opened with
``CAP_PROP_FORMAT=-1`` its FFmpeg backend only demuxes, ``grab()`` steps over one packet, and each
packet tells its presentation time (``CAP_PROP_POS_MSEC``) and whether it is a keyframe
(``CAP_PROP_LRF_HAS_KEY_FRAME``). Packets come in decoding order; sorting their times gives each
keyframe's frame index (with B-frames a keyframe is decoded before frames shown ahead of it).

The same pass shows whether OpenCV's own frame numbers can be trusted. OpenCV numbers a frame
``round(time * fps)`` after a seek; that is the frame's index only while the times are regular.
Where frames were dropped or the rate varies it is not, and the index keeps every frame's time
so the scrubber can find where a seek really landed.

The pass reads the whole file once (seconds for an hour of 1080p), so its result is kept in
``<cache_dir>/keyframes/<hash of location, size, mtime>.json``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import cv2
import numpy as np

from posering import storage
from posering.errors import VideoError
from posering.video.reader import VideoReader

_FORMAT_VERSION = 1


@dataclass(frozen=True)
class KeyframeIndex:
    frames: int  # frames that decode, as VideoReader counts them
    fps: float  # the rate OpenCV numbers frames by
    keyframes: np.ndarray  # frame indices of keyframes, ascending, always starting with 0
    times_ms: np.ndarray | None  # every frame's time where OpenCV's numbers are not its indices

    @property
    def regular(self) -> bool:
        """Whether OpenCV's frame numbers after a seek are the frames' indices."""
        return self.times_ms is None

    def keyframe_at_or_before(self, index: int) -> int:
        return int(self.keyframes[np.searchsorted(self.keyframes, index, side="right") - 1])

    def index_of_time(self, ms: float) -> int:
        """The index of the frame shown at ``ms`` (irregular videos only)."""
        position = int(np.searchsorted(self.times_ms, ms))
        candidates = [i for i in (position - 1, position) if 0 <= i < len(self.times_ms)]
        return min(candidates, key=lambda i: abs(self.times_ms[i] - ms))

    def opencv_number(self, index: int) -> int:
        """The number OpenCV gives frame ``index`` after a seek (its time times fps, rounded)."""
        if self.times_ms is None:
            return index
        numbers = np.floor(self.fps * self.times_ms[[0, index]] / 1000 + 0.5)
        return int(numbers[1] - numbers[0])


def cache_location(location: str) -> str:
    digest = hashlib.sha1(storage.fingerprint(location).encode()).hexdigest()[:20]
    return storage.join(storage.cache_dir(), "keyframes", f"{digest}.json")


def keyframe_index(location: str, local_path: str) -> KeyframeIndex:
    """The index of ``location`` (read from ``local_path``), from its cache file or built once."""
    cached = cache_location(location)
    if storage.exists(cached):
        try:
            return _from_json(json.loads(storage.read_text(cached)))
        except (ValueError, KeyError, TypeError):
            pass  # an older or damaged cache file is rebuilt below
    index = build_index(location, local_path)
    storage.write_text(cached, json.dumps(_to_json(index)))
    return index


def build_index(location: str, local_path: str) -> KeyframeIndex:
    """One demux-only pass over the packets (no decoding), and VideoReader's verified count."""
    capture = cv2.VideoCapture(local_path, cv2.CAP_FFMPEG, [cv2.CAP_PROP_FORMAT, -1])
    if not capture.isOpened():
        raise VideoError(f"{location}: cannot be opened as a video (corrupt, empty or an unsupported "
                         "codec); re-encode it, e.g. `ffmpeg -i in.avi -c:v libx264 out.mp4`")
    times, keys = [], []
    try:
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        while capture.grab():
            times.append(capture.get(cv2.CAP_PROP_POS_MSEC))
            keys.append(bool(capture.get(cv2.CAP_PROP_LRF_HAS_KEY_FRAME)))
    finally:
        capture.release()
    with VideoReader(local_path) as reader:
        frames = reader.frame_count
    order = np.argsort(np.asarray(times, dtype=np.float64), kind="stable")
    index_of_packet = np.empty(len(order), dtype=np.int64)
    index_of_packet[order] = np.arange(len(order))
    keyframes = np.unique(np.concatenate([[0], index_of_packet[np.asarray(keys, dtype=bool)]]))
    keyframes = keyframes[keyframes < frames]
    sorted_ms = np.asarray(times, dtype=np.float64)[order]
    numbers = np.floor(fps * sorted_ms / 1000 + 0.5) if fps > 0 else np.arange(len(sorted_ms))
    regular = len(sorted_ms) == frames and np.array_equal(numbers - numbers[0], np.arange(frames))
    return KeyframeIndex(frames, fps, keyframes, None if regular else sorted_ms)


def _to_json(index: KeyframeIndex) -> dict:
    return {"version": _FORMAT_VERSION, "frames": index.frames, "fps": index.fps,
            "keyframes": index.keyframes.tolist(),
            "times_ms": None if index.times_ms is None else index.times_ms.tolist()}


def _from_json(data: dict) -> KeyframeIndex:
    if data["version"] != _FORMAT_VERSION:
        raise ValueError("old format")
    times = data["times_ms"]
    return KeyframeIndex(int(data["frames"]), float(data["fps"]), np.asarray(data["keyframes"], np.int64),
                         None if times is None else np.asarray(times, np.float64))
