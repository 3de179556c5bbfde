"""Running a model over shards: full frames (or a fixed crop) in batches, or dynamic crops.

The engine is plain Python around a predictor (uint8 frames -> full-frame poses): the Ray worker
wraps it, and the single-process path calls it directly, so both compute the same numbers.

Dynamic cropping depends on the previous frame, so one video stream cannot be batched in time.
Instead the engine advances several shards in lockstep: each step takes the next frame of every
shard, cuts each to its own box, and runs them as one batch. Crops in a batch share one size
(the largest box, grown around each animal within its frame), so no padding is needed.
"""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np
import torch

from posering.analyze.dynamic import DynamicCropper
from posering.analyze.settings import AnalysisSettings
from posering.analyze.shards import Shard, write_part
from posering.analyze.stream import PrefetchedFrames
from posering.video import probe

ProgressFn = Callable[[int], None]


def _no_progress(_: int) -> None:
    return None


class InferenceEngine:
    def __init__(self, predictor, num_keypoints: int, settings: AnalysisSettings,
                 on_frames: ProgressFn = _no_progress):
        self.predictor = predictor
        self.num_keypoints = num_keypoints
        self.settings = settings
        self.on_frames = on_frames

    def run(self, shards: Iterable[Shard]) -> list[str]:
        """Analyse shards and write their parts; returns the part locations."""
        shards = list(shards)
        if self.settings.dynamic.enabled:
            for group in _groups(shards, self.settings.batch_size):
                self.run_dynamic(group)
        else:
            for shard in shards:
                write_part(shard, self.run_fixed(shard))
        return [s.part for s in shards]

    # -- full frame or a fixed crop ----------------------------------------------------------------
    def run_fixed(self, shard: Shard) -> np.ndarray:
        crop = self.settings.crop
        offset = (crop.x1, crop.y1) if crop else None
        poses = np.empty((len(shard), self.num_keypoints, 3), np.float32)
        with PrefetchedFrames(shard.video, shard.start, shard.stop, self.settings.batch_size, crop) as frames:
            for indices, batch in frames:
                poses[indices - shard.start] = _to_numpy(self.predictor(batch, offset=offset))
                self.on_frames(len(indices))
        return poses

    # -- dynamic cropping, shards in lockstep ----------------------------------------------------------
    def run_dynamic(self, shards: list[Shard]) -> None:
        info = probe(shards[0].video)
        crop = self.settings.crop
        frame_w = crop.width if crop else info.width
        frame_h = crop.height if crop else info.height
        base = np.array([crop.x1, crop.y1], np.float32) if crop else np.zeros(2, np.float32)
        dyn = self.settings.dynamic
        streams = [iter(PrefetchedFrames(s.video, s.start, s.stop, 1, crop)) for s in shards]
        croppers = [DynamicCropper(frame_w, frame_h, dyn.threshold, dyn.margin) for _ in shards]
        results = [np.empty((len(s), self.num_keypoints, 3), np.float32) for s in shards]
        active = list(range(len(shards)))
        while active:
            step = []
            for i in list(active):
                item = next(streams[i], None)
                if item is None:
                    active.remove(i)
                    write_part(shards[i], results[i])
                    continue
                step.append((i, int(item[0][0]), item[1][0]))
            full = [s for s in step if croppers[s[0]].box is None]
            cropped = [s for s in step if croppers[s[0]].box is not None]
            for group, boxed in ((full, False), (cropped, True)):
                if group:
                    self._infer_step(group, boxed, croppers, results, shards, base)
            self.on_frames(len(step))

    def _infer_step(self, step, boxed, croppers, results, shards, base) -> None:
        if boxed:
            width = max(croppers[i].box.width for i, _, _ in step)
            height = max(croppers[i].box.height for i, _, _ in step)
            boxes = [croppers[i].fit(b.x1, b.y1, b.x2, b.y2, width, height)
                     for i, _, _ in step for b in [croppers[i].box]]
            batch = np.stack([frame[b.y1:b.y2, b.x1:b.x2] for (_, _, frame), b in zip(step, boxes)])
            offsets = np.array([[b.x1, b.y1] for b in boxes], np.float32) + base
        else:
            batch = np.stack([frame for _, _, frame in step])
            offsets = np.repeat(base[None], len(step), axis=0)
        poses = _to_numpy(self.predictor(batch, offset=offsets))
        for (i, index, _), pose in zip(step, poses):
            results[i][index - shards[i].start] = pose
            croppers[i].update(pose - np.array([base[0], base[1], 0], np.float32))


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
