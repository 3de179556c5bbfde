"""Shards: frame ranges of a video, each analysed once into its own part file.

A part file holds the poses of frames ``[start, stop)``; it is written atomically, once, so a
killed run leaves complete parts only. Planning a (re)run looks at the parts already there and
shards only the frames they do not cover, so finished shards are never redone, whatever shard
size the earlier run used. The video's outputs are assembled once its parts tile every frame
exactly once.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from posering import storage
from posering.errors import PoseringError
from posering.project.paths import part_file, part_range


@dataclass(frozen=True)
class Shard:
    video: str
    start: int
    stop: int
    parts_dir: str

    @property
    def part(self) -> str:
        return part_file(self.parts_dir, self.start, self.stop)

    def __len__(self) -> int:
        return self.stop - self.start


def unit_key(shards: list[Shard]) -> str:
    """A work unit's name (one shard, or a lockstep group): its video and first frame."""
    return f"{shards[0].video}@{shards[0].start}"


def existing_parts(parts_dir: str) -> list[tuple[int, int]]:
    return sorted(r for r in map(part_range, storage.listdir(parts_dir)) if r)


def uncovered(nframes: int, done: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Frame ranges of ``[0, nframes)`` not covered by the ``done`` ranges."""
    gaps, cursor = [], 0
    for start, stop in sorted(done):
        if start > cursor:
            gaps.append((cursor, min(start, nframes)))
        cursor = max(cursor, stop)
    if cursor < nframes:
        gaps.append((cursor, nframes))
    return [(a, b) for a, b in gaps if b > a]


def plan_shards(video: str, nframes: int, parts_dir: str, shard_frames: int) -> list[Shard]:
    """Shards for the frames that no existing part covers."""
    shards = []
    for start, stop in uncovered(nframes, existing_parts(parts_dir)):
        for first in range(start, stop, shard_frames):
            shards.append(Shard(video, first, min(first + shard_frames, stop), parts_dir))
    return shards


def write_part(shard: Shard, poses: np.ndarray, skipped: list[tuple[int, int]] = ()) -> None:
    """The shard's poses; ``skipped``: the ``[first, after_last)`` stretches that did not decode
    (their rows are NaN), kept with the part so that a resumed run still reports them."""
    if poses.shape[0] != len(shard):
        raise PoseringError(f"{shard.video}: shard [{shard.start}, {shard.stop}) produced "
                            f"{poses.shape[0]} rows")
    buffer = io.BytesIO()
    np.savez(buffer, start=shard.start, stop=shard.stop, poses=poses.astype(np.float32),
             skipped=np.asarray(list(skipped), np.int64).reshape(-1, 2))
    storage.write_bytes(shard.part, buffer.getvalue())


def read_parts(parts_dir: str, nframes: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """All parts stitched in frame order (every frame must appear exactly once), and the
    stretches of frames that did not decode, joined where they meet across parts."""
    ranges = existing_parts(parts_dir)
    cursor, pieces, skipped = 0, [], []
    for start, stop in ranges:
        if start != cursor:
            problem = "overlap" if start < cursor else "gap"
            raise PoseringError(f"{parts_dir}: parts {problem} at frame {min(start, cursor)}; "
                                "delete this folder and analyze again")
        with np.load(io.BytesIO(storage.read_bytes(part_file(parts_dir, start, stop)))) as data:
            pieces.append(data["poses"])
            for first, after in (data["skipped"].tolist() if "skipped" in data.files else []):
                if skipped and skipped[-1][1] == first:
                    skipped[-1] = (skipped[-1][0], after)
                else:
                    skipped.append((first, after))
        cursor = stop
    if cursor != nframes:
        raise PoseringError(f"{parts_dir}: parts cover {cursor} of {nframes} frames")
    return np.concatenate(pieces, axis=0), skipped
