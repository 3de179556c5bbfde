"""A synthetic 'mouse' with known keypoints, rendered into a real video.

Used by ``posering demo`` (so the README's main command needs no download) and by the tests. The
animal is a dark elliptic body with a head, two ears and a tail on a textured floor; it wanders
along a smooth closed path, heading where it moves. Its keypoints (snout, leftear, rightear,
tailbase) are known exactly for every frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from posering.video import VideoWriter

BODYPARTS = ["snout", "leftear", "rightear", "tailbase"]
SKELETON = [["snout", "leftear"], ["snout", "rightear"], ["leftear", "tailbase"], ["rightear", "tailbase"]]


@dataclass(frozen=True)
class Scene:
    width: int = 320
    height: int = 240
    fps: float = 30.0
    nframes: int = 300
    body_length: float = 56.0
    seed: int = 0


def trajectory(scene: Scene) -> tuple[np.ndarray, np.ndarray]:
    """Centre (T, 2) and heading angle (T,) of the animal for every frame."""
    t = np.arange(scene.nframes) / scene.nframes * 2 * np.pi
    margin = scene.body_length
    cx = scene.width / 2 + (scene.width / 2 - margin) * np.sin(t * 2 + 0.3)
    cy = scene.height / 2 + (scene.height / 2 - margin) * np.sin(t * 3)
    centre = np.stack([cx, cy], axis=1)
    velocity = np.gradient(centre, axis=0)
    heading = np.arctan2(velocity[:, 1], velocity[:, 0])
    return centre, heading


def keypoints(scene: Scene) -> np.ndarray:
    """(T, 4, 2) ground-truth keypoints in BODYPARTS order."""
    centre, heading = trajectory(scene)
    forward = np.stack([np.cos(heading), np.sin(heading)], axis=1)
    left = np.stack([np.sin(heading), -np.cos(heading)], axis=1)
    half = scene.body_length / 2
    snout = centre + forward * half
    leftear = centre + forward * half * 0.45 + left * half * 0.42
    rightear = centre + forward * half * 0.45 - left * half * 0.42
    tailbase = centre - forward * half
    return np.stack([snout, leftear, rightear, tailbase], axis=1)


def _floor(scene: Scene) -> np.ndarray:
    rng = np.random.default_rng(scene.seed)
    noise = rng.normal(0, 1, (scene.height // 8 + 1, scene.width // 8 + 1)).astype(np.float32)
    texture = cv2.resize(noise, (scene.width, scene.height), interpolation=cv2.INTER_CUBIC)
    base = 200 + 12 * texture
    floor = np.stack([base, base * 0.97, base * 0.9], axis=2)
    return np.clip(floor, 0, 255).astype(np.uint8)


def render_frame(floor: np.ndarray, points: np.ndarray, heading: float, body_length: float) -> np.ndarray:
    """Draw the animal (RGB) given its 4 keypoints."""
    frame = floor.copy()
    snout, leftear, rightear, tailbase = points
    centre = (snout + tailbase) / 2
    angle = np.degrees(heading)
    # tail: a curved polyline behind the tail base
    back = tailbase - (snout - tailbase) * 0.6
    side = np.array([-(snout - tailbase)[1], (snout - tailbase)[0]]) * 0.15
    tail = np.array([tailbase, (tailbase + back) / 2 + side, back]).astype(np.int32)
    cv2.polylines(frame, [tail], False, (150, 110, 110), 2, cv2.LINE_AA)
    axes = (int(body_length * 0.42), int(body_length * 0.22))
    cv2.ellipse(frame, tuple(int(v) for v in centre - (snout - tailbase) * 0.08), axes, angle, 0, 360,
                (70, 60, 55), -1, cv2.LINE_AA)
    head = snout - (snout - tailbase) * 0.16
    cv2.ellipse(frame, tuple(int(v) for v in head), (int(body_length * 0.2), int(body_length * 0.14)),
                angle, 0, 360, (85, 72, 66), -1, cv2.LINE_AA)
    for ear in (leftear, rightear):
        cv2.circle(frame, tuple(int(v) for v in ear), max(3, int(body_length * 0.08)), (230, 150, 160), -1,
                   cv2.LINE_AA)
    cv2.circle(frame, tuple(int(v) for v in snout), 2, (240, 170, 180), -1, cv2.LINE_AA)
    return frame


def render_video(location: str, scene: Scene = Scene(), codec: str = "mp4v") -> np.ndarray:
    """Write the scene as a video at ``location``; return its (T, 4, 2) keypoints."""
    points = keypoints(scene)
    _, heading = trajectory(scene)
    floor = _floor(scene)
    with VideoWriter(location, scene.fps, (scene.width, scene.height), codec=codec) as writer:
        for index in range(scene.nframes):
            writer.write(render_frame(floor, points[index], heading[index], scene.body_length))
    return points
