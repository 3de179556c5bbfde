"""Left/right labels placed the wrong way round: frames whose pair is mirrored against the rest.

A person labeling ``leftear`` and ``rightear`` (or ``left_paw`` / ``right_paw``, ``paw_L`` /
``paw_R``) sometimes swaps them, mostly where the animal is seen at an odd angle. A swapped pair
teaches the network both sides at once and, in a test frame, counts as a large error against a
prediction that is right. Such a frame is visible from the labels alone: the pair lies on the
other side of the animal's body than in the other frames.

The side of a pair in one frame is the sign of the cross product between the direction from the
pair's midpoint to the centroid of the frame's other labeled keypoints (towards the body) and the
vector from the right point to the left one. Seen from one camera, an animal's left stays on the
same side of that direction, so the sign is the same in almost every frame; a frame whose sign
disagrees with a clear majority is reported. Frames where the pair lies nearly along that
direction (under :data:`MIN_ANGLE_DEG`) have no reliable side and are not judged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from posering.formats import labels

MIN_ANGLE_DEG = 20.0  # a pair closer than this to the body direction has no reliable side
MIN_FRAMES = 10  # frames with a side needed before a majority means anything
MIN_AGREEMENT = 0.8  # share of those frames on the majority side

_LEFT_WORDS = (
    re.compile(r"left", re.IGNORECASE),  # leftear, LeftPaw, left_ear, ear-left
    re.compile(r"(?<![A-Za-z])[lL](?![A-Za-z])"),  # a lone l between separators: paw_l, L_ear, ear-L
)
_RIGHT_OF = {"left": "right", "Left": "Right", "LEFT": "RIGHT", "l": "r", "L": "R"}


@dataclass(frozen=True)
class SwappedPair:
    """One frame whose left/right pair lies on the other side from the majority of frames."""

    image: str  # the labeled image, as in the labels' index (labeled-data/<video>/<image>)
    left: str
    right: str
    agreeing: int  # frames with this pair on the majority side
    judged: int  # frames where the pair had a side

    def message(self) -> str:
        return (f"{self.image}: {self.left} and {self.right} lie on the opposite side of the body from "
                f"{self.agreeing} of {self.judged} labeled frames; were they swapped? Look at the frame "
                f"and move them in the labeling client's Label view if so")


def mirrored_pairs(bodyparts: list[str]) -> list[tuple[str, str]]:
    """(left, right) bodypart pairs whose names differ only in their side word."""
    known = set(bodyparts)
    pairs = []
    for name in bodyparts:
        for pattern in _LEFT_WORDS:
            partner = pattern.sub(lambda match: _RIGHT_OF.get(match.group(0), "right"), name)
            if partner != name and partner in known:
                pairs.append((name, partner))
                break
    return pairs


def pair_sides(points: np.ndarray, left: int, right: int) -> np.ndarray:
    """Per frame, +1 or -1 for the side the pair lies on, 0 where it has no reliable side.

    ``points`` is (frames, keypoints, 2) with NaN where a keypoint is not labeled.
    """
    others = np.delete(points, [left, right], axis=1)
    labeled = np.isfinite(others).all(axis=2)
    count = labeled.sum(axis=1)
    centroid = np.where(labeled[..., None], others, 0.0).sum(axis=1) / np.maximum(count, 1)[:, None]
    across = points[:, left] - points[:, right]
    body = centroid - (points[:, left] + points[:, right]) / 2
    cross = body[:, 0] * across[:, 1] - body[:, 1] * across[:, 0]
    norms = np.linalg.norm(body, axis=1) * np.linalg.norm(across, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        sine = cross / norms
    reliable = np.isfinite(sine) & (count > 0) & (np.abs(sine) >= np.sin(np.radians(MIN_ANGLE_DEG)))
    return np.where(reliable, np.sign(sine), 0.0).astype(np.int8)


def find_swapped_pairs(points: np.ndarray, bodyparts: list[str], images: list[str]) -> list[SwappedPair]:
    """Frames whose left/right pairs are mirrored against a clear majority of the other frames.

    ``points`` is (frames, keypoints, 2) in the order of ``bodyparts``, NaN where not labeled;
    ``images`` names each frame. A pair is judged only where at least :data:`MIN_FRAMES` frames
    give it a side and :data:`MIN_AGREEMENT` of them agree.
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 3 or points.shape[1:] != (len(bodyparts), 2) or len(images) != len(points):
        raise ValueError(f"expected points of shape ({len(images)}, {len(bodyparts)}, 2), got {points.shape}")
    index = {name: k for k, name in enumerate(bodyparts)}
    found = []
    for left, right in mirrored_pairs(bodyparts):
        sides = pair_sides(points, index[left], index[right])
        judged = int((sides != 0).sum())
        if judged < MIN_FRAMES:
            continue
        positive = int((sides > 0).sum())
        majority = 1 if positive * 2 >= judged else -1
        agreeing = positive if majority > 0 else judged - positive
        if agreeing < MIN_AGREEMENT * judged:
            continue
        for frame in np.flatnonzero(sides == -majority):
            found.append(SwappedPair(images[frame], left, right, agreeing, judged))
    return found


def find_swapped_in_labels(table, bodyparts: list[str]) -> list[SwappedPair]:
    """:func:`find_swapped_pairs` on one video's labels table (a DeepLabCut CollectedData table).

    Judge one video at a time: a video is one camera, and a mirrored view (a camera below the
    floor, a mirror) mirrors every frame's pairs together.
    """
    return find_swapped_pairs(labels.points(table, bodyparts), bodyparts, labels.image_relpaths(table))
