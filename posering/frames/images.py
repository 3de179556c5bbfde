"""Saving video frames as the PNG images of ``labeled-data/<video>/``."""

from __future__ import annotations

import cv2
import numpy as np

from posering import storage
from posering.errors import PoseringError
from posering.project.config import Crop
from posering.project.paths import frame_image_name
from posering.video import VideoReader


def encode_png(image_rgb: np.ndarray) -> bytes:
    ok, buffer = cv2.imencode(".png", cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise PoseringError("could not encode a frame as PNG")
    return buffer.tobytes()


def decode_image(location: str) -> np.ndarray:
    """An image file (local or remote) as RGB uint8."""
    data = np.frombuffer(storage.read_bytes(location), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        raise PoseringError(f"{location}: not a readable image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def save_frames(video: str, indices, folder: str, crop: Crop | None = None,
                overwrite: bool = False) -> tuple[list[str], list[str]]:
    """Save frames ``indices`` of ``video`` into ``folder`` as ``img<index>.png``.

    Existing images are never overwritten (they may be labeled) unless ``overwrite``.
    Returns (names written, names skipped because they existed).
    """
    written, skipped = [], []
    storage.makedirs(folder)
    existing = set(storage.listdir(folder))
    with VideoReader(video) as reader:
        nframes = reader.frame_count
        wanted = sorted({int(i) for i in indices})
        bad = [i for i in wanted if not 0 <= i < nframes]
        if bad:
            raise PoseringError(f"{video}: frame {bad[0]} does not exist (the video has {nframes} frames)")
        todo = []
        for index in wanted:
            name = frame_image_name(index, nframes)
            (skipped if name in existing and not overwrite else todo).append((index, name))
        skipped = [name for _, name in skipped]
        names = dict(todo)
        for index, frame in reader.read_many(names):
            if crop is not None:
                frame = frame[crop.y1:crop.y2, crop.x1:crop.x2]
            storage.write_bytes(storage.join(folder, names[index]), encode_png(frame))
            written.append(names[index])
    return written, skipped
