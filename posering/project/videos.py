"""Finding a project's videos, wherever the config says they were.

``video_sets`` keys are absolute paths written on the machine that created the project. When a
project is moved or shared those paths go stale; the video is then looked up by name in the
project's own ``videos/`` folder, so a copied project keeps working. A relative key
(``videos/clip.mp4``) is relative to the project folder, never to the current directory: the same
command takes frames from the same video wherever it is run.

Which videos make up the training data: the stems of the ``video_sets`` keys. DeepLabCut's own
example projects ship with a placeholder key ("WILL BE AUTOMATICALLY UPDATED BY DEMO CODE") and
their labels in ``labeled-data/<stem>/``; while ``video_sets`` holds a placeholder (or nothing),
the labeled-data folders found on disk also count as the project's videos for dataset purposes
(:func:`dataset_video_stems`).
"""

from __future__ import annotations

import logging

from posering import storage
from posering.errors import ConfigError, VideoError
from posering.project.config import ProjectConfig, is_placeholder
from posering.project.paths import (
    VIDEO_SUFFIXES,
    ProjectPaths,
    is_labeled_video,
    is_video_folder,
)
from posering.video import probe

log = logging.getLogger("posering.project")


def resolve_video(config: ProjectConfig, video_key: str) -> str | None:
    """Where the video listed as ``video_key`` actually is, or None if it cannot be found."""
    if is_placeholder(video_key):
        return None
    candidates = [storage.resolve(video_key, config.project_path),
                  storage.join(ProjectPaths(config).videos_dir, storage.name(video_key))]
    for candidate in candidates:
        try:
            if storage.isfile(candidate):
                return storage.normalize(candidate)
        except Exception:  # a stale key may name a bucket or drive that no longer exists
            continue
    return None


def video_stems(config: ProjectConfig) -> list[str]:
    """The labeled-data folder names of the videos in ``video_sets`` (placeholders skipped)."""
    return [storage.stem(key) for key in config.video_sets if not is_placeholder(key)]


def dataset_video_stems(config: ProjectConfig) -> list[str]:
    """The labeled-data folders that feed training datasets, label checks and merges.

    The stems of ``video_sets``. A placeholder key (DeepLabCut's example projects) stands for the
    videos whose frames ship in ``labeled-data/``: while ``video_sets`` holds one, or holds nothing,
    every folder under ``labeled-data/`` counts as well (except check_labels' ``*_labeled``).
    """
    stems = list(dict.fromkeys(video_stems(config)))
    if stems and not any(is_placeholder(key) for key in config.video_sets):
        return stems
    folder = ProjectPaths(config).labeled_data_dir
    on_disk = [entry for entry in storage.listdir(folder)
               if is_video_folder(entry)
               and entry not in stems and storage.isdir(storage.join(folder, entry))]
    return stems + on_disk


def collect_videos(videos: list[str] | str, videotype: str = "") -> list[str]:
    """Expand files and folders (filtered by ``videotype``) into a sorted list of video files."""
    if isinstance(videos, str):
        videos = [videos]
    suffixes = (videotype if videotype.startswith(".") else f".{videotype}",) if videotype else VIDEO_SUFFIXES
    found: list[str] = []
    for entry in videos:
        entry = storage.normalize(entry)
        if storage.isdir(entry):
            names = [n for n in storage.listdir(entry) if n.lower().endswith(suffixes)]
            # Skip posering's and DeepLabCut's own labeled videos living beside the originals.
            names = [n for n in names if not is_labeled_video(n)]
            found.extend(storage.join(entry, n) for n in names)
        elif storage.exists(entry):
            found.append(entry)
        else:
            raise VideoError(f"{entry}: no such video file or folder")
    return sorted(dict.fromkeys(found))


def probe_all(video_list: list[str]) -> dict:
    """Each video's VideoInfo, probed before anything is written (an unreadable video fails here)."""
    return {video: probe(video) for video in video_list}


def add_videos_to_config(config: ProjectConfig, video_list: list[str], infos: dict, copy_videos: bool) -> list[str]:
    """Link (or copy) videos into the project's videos/ folder and list them in ``video_sets``
    with a full-frame crop; returns the added videos' locations (ones already listed are skipped)."""
    paths = ProjectPaths(config)
    video_sets = config.video_sets
    known_stems = {storage.stem(key): key for key in video_sets}
    stems = [storage.stem(v) for v in video_list]
    duplicates = {s for s in stems if stems.count(s) > 1}
    if duplicates:
        raise ConfigError(f"two videos share the name {sorted(duplicates)[0]!r}; their labeled-data "
                          "folders would collide: rename one")
    added = []
    for video in video_list:
        target = storage.join(paths.videos_dir, storage.name(video))
        if storage.stem(video) in known_stems:
            log.info("%s is already in the project; skipped", video)
            continue
        if storage.normalize(video) != storage.normalize(target):
            how = storage.symlink_or_copy(video, target, copy_file=copy_videos)
            log.info("%s %s into %s", how, video, paths.videos_dir)
        info = infos[video]
        video_sets[target] = {"crop": f"0, {info.width}, 0, {info.height}"}
        storage.makedirs(paths.labeled_folder(storage.stem(video)))
        added.append(target)
    config["video_sets"] = video_sets
    return added
