"""Rendering labeled frames of a video: whole, or as frame-range segments joined in order.

A :class:`RenderJob` holds everything one labeled video needs (plain values, so Ray tasks carry
it); the poses travel beside it as one array ``(frames, bodyparts, 2)`` in output-frame pixels,
NaN where a point is not drawn.

* :func:`render_whole` streams the video once: a reader thread decodes ahead, this thread draws,
  a writer thread encodes, so decoding and encoding overlap and only a few frames are in memory.
* :func:`render_segment` does the same for frames ``[start, stop)`` into a segment file in the
  job's parts folder (MJPG at JPEG quality 95: visually lossless, fast to decode again). A
  segment already there is not rendered again, so an interrupted run resumes.
* :func:`join_segments` decodes the segments in frame order into the final video and checks
  that every segment, and the whole, has exactly the frames it should.

OpenCV writes one video file from one thread, so the final encode is serial; what ranges buy is
parallel decoding and drawing (the matplotlib path, at tens of frames per second, gains most).
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from posering import storage
from posering.analyze.stream import PrefetchedFrames
from posering.errors import VideoError
from posering.frames.images import encode_png
from posering.project.config import Crop
from posering.project.paths import segment_file
from posering.video import VideoReader, VideoWriter
from posering.viz.draw import PoseStyle, draw_poses

SEGMENT_CODEC = "MJPG"
SEGMENT_QUALITY = 95


@dataclass(frozen=True)
class RenderJob:
    video: str
    output: str
    parts_dir: str
    nframes: int
    fps: float
    size: tuple[int, int]  # (width, height) of the output frames
    style: PoseStyle
    crop: Crop | None = None  # show only this region of the video (displaycropped)
    codec: str = "mp4v"
    frames_dir: str | None = None  # save_frames: matplotlib drawing, and a PNG per frame

    def segment(self, start: int, stop: int) -> str:
        return segment_file(self.parts_dir, start, stop)


def labeled_frames(job: RenderJob, points: np.ndarray, start: int, stop: int) -> Iterator[np.ndarray]:
    """The drawn frames ``[start, stop)``, decoded ahead in a background thread."""
    if job.frames_dir:
        from posering.viz.frame_figure import FrameFigure

        draw = FrameFigure(job.size[0], job.size[1], job.style).render
        storage.makedirs(job.frames_dir)
    else:
        def draw(frame, xy, trail):
            return draw_poses(frame, xy, job.style, trail)

    digits = len(str(max(job.nframes - 1, 1)))
    trailpoints = job.style.trailpoints
    with PrefetchedFrames(job.video, start, stop, batch_size=8, crop=job.crop) as stream:
        for indices, batch in stream:
            for index, frame in zip(indices.tolist(), batch):
                trail = points[max(0, index - trailpoints):index] if trailpoints else None
                drawn = draw(frame, points[index], trail)
                if job.frames_dir:
                    name = f"file{index:0{digits}d}.png"  # DeepLabCut's names for saved frames
                    storage.write_bytes(storage.join(job.frames_dir, name), encode_png(drawn))
                yield drawn


def render_whole(job: RenderJob, points: np.ndarray) -> str:
    """Render every frame straight into the output video; returns its location."""
    with VideoWriter(job.output, job.fps, job.size, codec=job.codec) as writer:
        written = _write_all(writer, labeled_frames(job, points, 0, job.nframes))
    _check_count(job.output, written, job.nframes)
    return job.output


def render_segment(job: RenderJob, points: np.ndarray, start: int, stop: int) -> str:
    """Render frames ``[start, stop)`` into a segment file (kept if already there)."""
    location = job.segment(start, stop)
    if storage.exists(location):
        return location
    with VideoWriter(location, job.fps, job.size, codec=SEGMENT_CODEC, quality=SEGMENT_QUALITY) as writer:
        written = _write_all(writer, labeled_frames(job, points, start, stop))
    _check_count(location, written, stop - start)
    return location


def join_segments(job: RenderJob, segments) -> str:
    """Append the segments, in order, into the output video; returns its location.

    ``segments`` yields segment locations in frame order; on Ray it is
    :func:`posering.ray_utils.fan_out_in_order`, so joining starts as soon as the first segment
    is ready and overlaps the rendering of later ones.
    """
    def frames() -> Iterator[np.ndarray]:
        for location in segments:
            start, stop = _segment_range(location)
            with VideoReader(location) as reader:
                if reader.frame_count != stop - start:
                    raise VideoError(f"{location}: holds {reader.frame_count} frames, expected "
                                     f"{stop - start}; delete it and render again")
            with PrefetchedFrames(location, 0, stop - start, batch_size=8) as stream:
                for _, batch in stream:
                    yield from batch

    with VideoWriter(job.output, job.fps, job.size, codec=job.codec) as writer:
        written = _write_all(writer, frames())
    _check_count(job.output, written, job.nframes)
    storage.remove_with_empty_parent(job.parts_dir)
    return job.output


def _segment_range(location: str) -> tuple[int, int]:
    start, stop = storage.stem(location).split("-")[1:3]
    return int(start), int(stop)


def _check_count(location: str, written: int, expected: int) -> None:
    if written != expected:
        raise VideoError(f"{location}: wrote {written} frames but the video has {expected}; "
                         "the video may be corrupt (frames that do not decode)")


_END = object()


def _write_all(writer: VideoWriter, frames: Iterator[np.ndarray]) -> int:
    """Write every frame, encoding in a background thread (OpenCV releases the GIL while it
    encodes, so encoding overlaps drawing and decoding). Returns the number written."""
    pending: queue.Queue = queue.Queue(maxsize=16)
    failure: list[BaseException] = []

    def encode() -> None:
        while True:
            frame = pending.get()
            if frame is _END:
                return
            if not failure:
                try:
                    writer.write(frame)
                except BaseException as exc:  # raised again in the caller's thread
                    failure.append(exc)

    thread = threading.Thread(target=encode, name=f"encode:{writer.location}", daemon=True)
    thread.start()
    try:
        for frame in frames:
            if failure:
                break
            pending.put(frame)
    finally:
        pending.put(_END)
        thread.join()
    if failure:
        raise failure[0]
    return writer.frames_written
