"""Running a model over shards: full frames (or a fixed crop) in batches, or dynamic crops.

The engine is plain Python around a predictor (uint8 frames -> full-frame poses): the Ray worker
wraps it, and the single-process path calls it directly, so both compute the same numbers.

Dynamic cropping depends on the previous frame, so one video stream cannot be batched in time.
Instead the engine advances several shards in lockstep: each step takes the next frame of every
shard, cuts each to its own box, and runs them as one batch. Crops in a batch share one size
(the largest box, grown around each animal within its frame), so no padding is needed. For
GroupNorm networks each crop step also uses what the streams' reference full frames hold in and
around the boxes, so that the crops are normalised as parts of the full frame (fullview.py).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np
import torch

from posering.analyze.dynamic import DynamicCropper
from posering.analyze.fullview import FullViewNorm, Sums
from posering.analyze.settings import AnalysisSettings
from posering.analyze.shards import Shard, write_part
from posering.analyze.stream import DecodeThreads, PrefetchedFrames
from posering.video import probe

# Called with the frames just analysed, per shard (workers count each shard's frames once).
ProgressFn = Callable[[dict[Shard, int]], None]
# Frames a stream's crops may borrow a full frame's GroupNorm statistics before it is analysed
# whole again (fullview.py): the openfield tracker stayed within ~2 px of full-frame poses
# with references up to 5-8 frames old; each refresh costs one full frame.
REFERENCE_REFRESH = 16
# Full frames of a GroupNorm stream without a box that still record statistics for crops: its
# first frame; after that it waits for the animal on the full-frame path (ONNX Runtime on a
# CPU), and its first confident frame is followed by one full frame that records them.
RECORD_WHILE_LOST = 1


def _no_progress(_: dict[Shard, int]) -> None:
    return None


class InferenceEngine:
    """Analyses shards with one predictor; lives as long as its worker (call :meth:`close`)."""

    def __init__(self, predictor, num_keypoints: int, settings: AnalysisSettings,
                 on_frames: ProgressFn = _no_progress, crop_predictor=None):
        self.predictor = predictor  # whole frames
        self.crop_predictor = crop_predictor or predictor  # dynamic crops (predictor.Predictors)
        self.num_keypoints = num_keypoints
        self.settings = settings
        self.on_frames = on_frames
        self.full_view = FullViewNorm.attach(self.crop_predictor) if settings.dynamic.enabled else None
        # The same decoding threads for every shard, so that the worker's memory does not grow
        # with the number of shards it analyses (stream.py says why).
        lockstep = max(1, settings.batch_size) if settings.dynamic.enabled else 1
        self.decoders = DecodeThreads(lockstep)

    def close(self) -> None:
        self.decoders.close()

    def __enter__(self) -> "InferenceEngine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def run(self, shards: Iterable[Shard]) -> list[str]:
        """Analyse shards and write their parts; returns the part locations."""
        shards = list(shards)
        if self.settings.dynamic.enabled:
            for group in _groups(shards, self.settings.batch_size):
                self.run_dynamic(group)
        else:
            for shard in shards:
                write_part(shard, *self.run_fixed(shard))
        return [s.part for s in shards]

    # -- full frame or a fixed crop ----------------------------------------------------------------
    def run_fixed(self, shard: Shard) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """The shard's poses (NaN where frames do not decode) and the stretches skipped."""
        crop = self.settings.crop
        offset = (crop.x1, crop.y1) if crop else None
        poses = np.full((len(shard), self.num_keypoints, 3), np.nan, np.float32)
        with PrefetchedFrames(shard.video, shard.start, shard.stop, self.settings.batch_size, crop,
                              threads=self.decoders, skip_damaged=True) as frames:
            for indices, batch in frames:
                poses[indices - shard.start] = _to_numpy(self.predictor(batch, offset=offset))
                self.on_frames({shard: len(indices)})
        return poses, frames.skipped

    # -- dynamic cropping, shards in lockstep ----------------------------------------------------------
    def run_dynamic(self, shards: list[Shard]) -> None:
        # Each stream keeps a batch ready: a stream whose animal is lost fills a whole batch.
        depth = max(3, self.settings.batch_size)
        with contextlib.ExitStack() as open_streams:
            sources = [open_streams.enter_context(PrefetchedFrames(
                s.video, s.start, s.stop, 1, self.settings.crop, depth=depth, threads=self.decoders,
                skip_damaged=True)) for s in shards]
            self._advance_in_lockstep(shards, sources)

    def _advance_in_lockstep(self, shards: list[Shard], sources: list[PrefetchedFrames]) -> None:
        """Each step takes the next frame of every shard and runs, as one batch per kind: frames
        of streams whose animal is not found (whole, through the full-frame predictor, topped up
        with the same streams' next frames to a full batch: a full frame is never a wrong
        answer, only a slower one), full frames whose GroupNorm statistics crops will borrow,
        and crops."""
        streams = [iter(source) for source in sources]
        info = probe(shards[0].video)
        crop = self.settings.crop
        frame_w = crop.width if crop else info.width
        frame_h = crop.height if crop else info.height
        base = np.array([crop.x1, crop.y1], np.float32) if crop else np.zeros(2, np.float32)
        dyn = self.settings.dynamic
        state = [_Stream(DynamicCropper(frame_w, frame_h, dyn.threshold, dyn.margin),
                         np.full((len(s), self.num_keypoints, 3), np.nan, np.float32), s.start) for s in shards]
        active = list(range(len(shards)))
        batch_size = max(1, self.settings.batch_size)
        while active:
            finished, stepped = [], {}

            def take(i: int):
                item = next(streams[i], None)
                if item is None:
                    active.remove(i)
                    finished.append(i)
                    return None
                stepped[shards[i]] = stepped.get(shards[i], 0) + 1
                return state[i], int(item[0][0]), item[1][0]

            lost, full, cropped = [], [], []
            for i in list(active):
                item = take(i)
                if item is not None:
                    kind = self._kind(item[0])
                    (lost if kind == "lost" else full if kind == "full" else cropped).append((i, item))
            lost_streams = [i for i, _ in lost]
            while lost_streams and len(lost) < batch_size:
                for i in list(lost_streams):
                    if len(lost) >= batch_size:
                        break
                    item = take(i)
                    if item is None:
                        lost_streams.remove(i)
                    else:
                        lost.append((i, item))
            if lost:
                lost.sort(key=lambda entry: (entry[0], entry[1][1]))  # each stream's frames in order
                self._infer_lost([item for _, item in lost], base)
            if full:
                self._infer_full([item for _, item in full], base)
            if cropped:
                self._infer_cropped([item for _, item in cropped], base)
            for i in finished:
                write_part(shards[i], state[i].poses, sources[i].skipped)
            if stepped:
                self.on_frames(stepped)

    def _kind(self, stream: "_Stream") -> str:
        """How the stream's next frame runs: "crop"; "full", a full frame whose GroupNorm
        statistics the next crops borrow (fullview.py); or "lost", a full frame of a stream
        whose animal is not found, run as a full-frame analysis would run it."""
        if stream.cropper.box is not None:
            if self.full_view is None or (stream.reference is not None and stream.age < REFERENCE_REFRESH):
                return "crop"
            return "full"
        # A GroupNorm stream records its first frame's statistics (a tracked animal is usually
        # found there); once it has lost the animal, it waits for it on the fast path.
        if self.full_view is not None and stream.lost < RECORD_WHILE_LOST:
            return "full"
        return "lost"

    def _infer_lost(self, step, base) -> None:
        batch = np.stack([frame for _, _, frame in step])
        offsets = np.repeat(base[None], len(step), axis=0)
        poses = _to_numpy(self.predictor(batch, offset=offsets))
        for stream, _, _ in step:
            stream.reference, stream.reference_sums = None, []  # no statistics were recorded
            stream.region_box, stream.region_sums = None, []
        self._store(step, poses, base)

    def _infer_full(self, step, base) -> None:
        batch = np.stack([frame for _, _, frame in step])
        offsets = np.repeat(base[None], len(step), axis=0)
        if self.full_view is None:
            poses = _to_numpy(self.predictor(batch, offset=offsets))
        else:
            with self.full_view.record():
                poses = _to_numpy(self.crop_predictor(batch, offset=offsets))
            for row, (stream, _, frame) in enumerate(step):
                stream.reference, stream.age = frame, 0
                stream.reference_sums = [layer.select([row]) for layer in self.full_view.recorded]
                stream.region_box, stream.region_sums = None, []
        self._store(step, poses, base)

    def _infer_cropped(self, step, base) -> None:
        width = max(stream.cropper.box.width for stream, _, _ in step)
        height = max(stream.cropper.box.height for stream, _, _ in step)
        boxes = [stream.cropper.fit(b.x1, b.y1, b.x2, b.y2, width, height)
                 for stream, _, _ in step for b in [stream.cropper.box]]
        batch = np.stack([frame[b.y1:b.y2, b.x1:b.x2] for (_, _, frame), b in zip(step, boxes)])
        offsets = np.array([[b.x1, b.y1] for b in boxes], np.float32) + base
        if self.full_view is None:
            poses = _to_numpy(self.crop_predictor(batch, offset=offsets))
        else:
            streams = [stream for stream, _, _ in step]
            self._measure_regions(streams, boxes)
            with self.full_view.crops(self._stacked(streams, "reference_sums"), self._stacked(streams, "region_sums")):
                poses = _to_numpy(self.crop_predictor(batch, offset=offsets))
            for stream in streams:
                stream.age += 1
        self._store(step, poses, base)

    def _measure_regions(self, streams: list["_Stream"], boxes) -> None:
        """The sums of each box's region of its stream's reference frame, where not known yet
        (boxes stay put while the animal stays inside, so this runs once per box)."""
        stale = [(stream, box) for stream, box in zip(streams, boxes) if stream.region_box != box]
        if not stale:
            return
        regions = np.stack([stream.reference[b.y1:b.y2, b.x1:b.x2] for stream, b in stale])
        with self.full_view.regions(self._stacked([stream for stream, _ in stale], "reference_sums")):
            self.crop_predictor(regions)
        for row, (stream, box) in enumerate(stale):
            stream.region_box = box
            stream.region_sums = [layer.select([row]) for layer in self.full_view.recorded]

    def _stacked(self, streams: list["_Stream"], attribute: str) -> list[Sums]:
        return [Sums.stack([getattr(stream, attribute)[layer] for stream in streams])
                for layer in range(len(self.full_view.layers))]

    @staticmethod
    def _store(step, poses, base) -> None:
        for (stream, index, _), pose in zip(step, poses):
            stream.poses[index - stream.start] = pose
            stream.cropper.update(pose - np.array([base[0], base[1], 0], np.float32))
            stream.lost = 0 if stream.cropper.box is not None else stream.lost + 1


@dataclass
class _Stream:
    """One shard advancing in lockstep: its box, its poses and, for GroupNorm networks, the
    full frame whose statistics its crops borrow."""

    cropper: DynamicCropper
    poses: np.ndarray
    start: int
    reference: np.ndarray | None = None
    reference_sums: list = field(default_factory=list)  # per GroupNorm layer
    region_box: object = None  # the box whose region of the reference region_sums measured
    region_sums: list = field(default_factory=list)
    age: int = 0
    lost: int = 0  # frames in a row without a confident bodypart


def _groups(shards: list[Shard], size: int) -> list[list[Shard]]:
    """Lockstep groups: up to ``size`` shards of one video each."""
    by_video: dict[str, list[Shard]] = {}
    for shard in shards:
        by_video.setdefault(shard.video, []).append(shard)
    groups = []
    for video_shards in by_video.values():
        for first in range(0, len(video_shards), max(1, size)):
            groups.append(video_shards[first:first + size])
    return groups


def _to_numpy(poses) -> np.ndarray:
    if isinstance(poses, torch.Tensor):
        return poses.detach().float().cpu().numpy()
    return np.asarray(poses, np.float32)
