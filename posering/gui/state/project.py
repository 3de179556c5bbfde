"""What the Project view shows about a project, in plain Python: its videos, a labeled frame for
the skeleton builder, and the arguments of create_new_project / add_new_videos from the form."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posering import labels, storage
from posering.errors import PoseringError
from posering.project import ProjectConfig, ProjectPaths
from posering.project.config import is_placeholder
from posering.project.paths import VIDEO_SUFFIXES
from posering.project.videos import dataset_video_stems, resolve_video


@dataclass
class VideoRow:
    key: str  # as video_sets names it
    location: str | None  # where it is found, None if missing
    crop: str

    @property
    def name(self) -> str:
        return storage.name(self.key)


def video_rows(config: ProjectConfig) -> list[VideoRow]:
    rows = []
    for key, entry in config.video_sets.items():
        if is_placeholder(key):
            continue
        crop = str((entry or {}).get("crop") or "")
        rows.append(VideoRow(key, resolve_video(config, key), crop))
    return rows


def project_videos(config: ProjectConfig) -> list[str]:
    """The project's videos that exist, as locations to hand to a step."""
    return [row.location for row in video_rows(config) if row.location]


def split_lines(text: str) -> list[str]:
    """Paths typed one per line (quotes from a file manager's copy are dropped)."""
    return [line.strip().strip('"').strip("'") for line in text.splitlines() if line.strip()]


def new_project_arguments(name: str, experimenter: str, videos_text: str, working_directory: str,
                          copy_videos: bool) -> dict:
    """create_new_project's arguments from the form; PoseringError says what is missing."""
    name, experimenter = name.strip(), experimenter.strip()
    videos = split_lines(videos_text)
    if not name:
        raise PoseringError("give the project a name (the Task, e.g. openfield)")
    if not experimenter:
        raise PoseringError("give the experimenter's name (it names the labels files)")
    if not videos:
        raise PoseringError("add at least one video (Add videos..., or type its path)")
    return {"project": name, "experimenter": experimenter, "videos": videos,
            "working_directory": working_directory.strip() or None, "copy_videos": bool(copy_videos)}


def is_video(location: str) -> bool:
    return location.lower().endswith(VIDEO_SUFFIXES)


@dataclass
class LabeledExample:
    image: str  # location of the image
    points: np.ndarray  # (K, 2) for the config's bodyparts, NaN where not placed


def labeled_example(config: ProjectConfig) -> LabeledExample | None:
    """The labeled frame with the most bodyparts placed (the first such in the first folder that
    has labels), to connect bodyparts on; None when nothing is labeled yet."""
    paths, bodyparts = ProjectPaths(config), config.bodyparts
    best: tuple[int, str, np.ndarray] | None = None
    for stem in dataset_video_stems(config):
        location = paths.collected_data(stem)
        if not storage.exists(location):
            continue
        try:
            table = labels.read_labels(location)
        except PoseringError:
            continue
        names = [storage.name(labels.image_relpath(key)) for key in table.index]
        xy = labels.points_by_image(table, names, bodyparts)
        placed = (~np.isnan(xy).any(axis=2)).sum(axis=1)
        if not len(placed):
            continue
        row = int(np.argmax(placed))
        image = storage.join(paths.labeled_folder(stem), names[row])
        if placed[row] and storage.exists(image) and (best is None or placed[row] > best[0]):
            best = (int(placed[row]), image, xy[row])
            if best[0] == len(bodyparts):
                break
    return LabeledExample(best[1], best[2]) if best else None


def nearest_bodypart(points: np.ndarray, x: float, y: float, within: float) -> int | None:
    """The placed bodypart nearest (x, y), if within ``within`` pixels."""
    if not len(points):
        return None
    distance = np.hypot(points[:, 0] - x, points[:, 1] - y)
    distance[np.isnan(distance)] = np.inf
    k = int(np.argmin(distance))
    return k if distance[k] <= within else None
