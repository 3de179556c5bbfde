"""Where a video's keyframes are and when each frame is shown, from one pass over its packets.

Seeking in a long H.264 video costs the frames decoded from the keyframe before the target, so a
scrubber plans its seeks by the keyframes. OpenCV finds them without decoding: opened with
``CAP_PROP_FORMAT=-1`` its FFmpeg backend only demuxes, ``grab()`` steps over one packet, and each
packet tells its presentation time (``CAP_PROP_POS_MSEC``) and whether it is a keyframe
(``CAP_PROP_LRF_HAS_KEY_FRAME``). Packets come in decoding order; sorting their times gives each
keyframe's frame index (with B-frames a keyframe is decoded before frames shown ahead of it).

The same pass shows whether OpenCV's own frame numbers can be trusted. OpenCV's
``CAP_PROP_POS_FRAMES`` seek lands on the keyframe at or before *target - 16*, numbers the frame it
lands on ``round(time * fps)`` and counts on from there; that is the frame's index only while the
times are regular. Where frames were dropped or the rate varies it is not, and the index keeps
every frame's time: :func:`seek_at_or_before` then seeks by OpenCV's number of a keyframe and
learns from the time of the frame it decodes where it really landed. This is the one place that
knows how; :class:`~posering.video.reader.VideoReader` and the scrubber both seek through it.

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

_FORMAT_VERSION = 2
# OpenCV's seek goes 16 frames back from its target before looking for a keyframe.
SEEK_LOOKBACK = 16


@dataclass(frozen=True)
class KeyframeIndex:
    packets: int  # frames that have a packet (those that decode are VideoReader's count)
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
    """One demux-only pass over the packets (no decoding).

    A packet whose data is damaged fails its ``grab()`` (OpenCV rewraps H.264 on the way) but is
    stepped over all the same, so the pass goes on while the header's count leaves room for more
    packets. Such a packet's time is lost; it is placed just after the latest time seen before it,
    which is where the damaged stretch begins, so that every frame after the stretch keeps its index.
    """
    capture = cv2.VideoCapture(local_path, cv2.CAP_FFMPEG, [cv2.CAP_PROP_FORMAT, -1])
    if not capture.isOpened():
        raise VideoError(f"{location}: cannot be opened as a video (corrupt, empty or an unsupported "
                         "codec); re-encode it, e.g. `ffmpeg -i in.avi -c:v libx264 out.mp4`")
    times, keys, lost, failed, latest = [], [], [], 0, 0.0
    try:
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        claimed = max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT)))
        while True:
            if not capture.grab():
                failed += 1
                if len(times) + failed > claimed:  # the end of the file (or of what the header says)
                    break
                continue
            for step in range(1, failed + 1):  # packets that failed before this one: damaged
                lost.append(len(times))
                times.append(np.nextafter(latest, np.inf) if step == 1 else np.nextafter(times[-1], np.inf))
                keys.append(False)
            failed = 0
            times.append(capture.get(cv2.CAP_PROP_POS_MSEC))
            keys.append(bool(capture.get(cv2.CAP_PROP_LRF_HAS_KEY_FRAME)))
            latest = max(latest, times[-1])
    finally:
        capture.release()
    order = np.argsort(np.asarray(times, dtype=np.float64), kind="stable")
    index_of_packet = np.empty(len(order), dtype=np.int64)
    index_of_packet[order] = np.arange(len(order))
    keyframes = np.unique(np.concatenate([[0], index_of_packet[np.asarray(keys, dtype=bool)]])).astype(np.int64)
    sorted_ms = np.asarray(times, dtype=np.float64)[order]
    numbers = np.floor(fps * sorted_ms / 1000 + 0.5) if fps > 0 else np.arange(len(sorted_ms))
    known = np.ones(len(sorted_ms), dtype=bool)
    known[index_of_packet[lost]] = False
    regular = np.array_equal((numbers - numbers[:1])[known], np.arange(len(sorted_ms))[known])
    return KeyframeIndex(len(sorted_ms), fps, keyframes, None if regular else sorted_ms)


def seek_at_or_before(capture: cv2.VideoCapture, index: KeyframeIndex, target: int,
                      lookback: int = SEEK_LOOKBACK + 2) -> int | None:
    """Seek ``capture`` so that its next ``grab()`` decodes frame ``target`` or one before it, at
    least ``lookback`` frames after a keyframe where ``target`` leaves room; returns the index of
    that next frame (the caller decodes forward from it), or None where no seek lands because the
    data there does not decode.

    Where OpenCV's numbers are the indices this is its own seek to ``target``. Elsewhere it seeks
    by OpenCV's number of a keyframe, 17 frames on (OpenCV steps 16 back, so it starts decoding at
    that keyframe), and decodes one frame: its time says which frame it is.
    """
    if index.regular or target == 0:
        capture.set(cv2.CAP_PROP_POS_FRAMES, target)
        return target
    keyframe = target - lookback
    while keyframe > 0:
        keyframe = index.keyframe_at_or_before(keyframe)
        capture.set(cv2.CAP_PROP_POS_FRAMES, index.opencv_number(keyframe) + SEEK_LOOKBACK + 1)
        if not capture.grab():
            return None
        landed = index.index_of_time(capture.get(cv2.CAP_PROP_POS_MSEC))
        if keyframe <= landed < target:
            return landed + 1
        keyframe -= 1  # landed elsewhere (not expected): try from the keyframe before
    capture.set(cv2.CAP_PROP_POS_FRAMES, 0)  # the first frame is always where it should be
    return 0


def _to_json(index: KeyframeIndex) -> dict:
    return {"version": _FORMAT_VERSION, "packets": index.packets, "fps": index.fps,
            "keyframes": index.keyframes.tolist(),
            "times_ms": None if index.times_ms is None else index.times_ms.tolist()}


def _from_json(data: dict) -> KeyframeIndex:
    if data["version"] != _FORMAT_VERSION:
        raise ValueError("old format")
    times = data["times_ms"]
    return KeyframeIndex(int(data["packets"]), float(data["fps"]), np.asarray(data["keyframes"], np.int64),
                         None if times is None else np.asarray(times, np.float64))
