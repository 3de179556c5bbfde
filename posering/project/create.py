"""create_new_project and add_new_videos."""

from __future__ import annotations

import datetime as dt
import logging

from posering import storage
from posering.errors import ConfigError, PoseringError
from posering.project.config import DEFAULTS, ProjectConfig
from posering.project.paths import ProjectPaths
from posering.project.videos import collect_videos
from posering.video import probe

log = logging.getLogger("posering.project")


def create_new_project(
    project: str,
    experimenter: str,
    videos: list[str],
    working_directory: str | None = None,
    copy_videos: bool = False,
    multianimal: bool = False,
) -> str:
    """Create a project folder ``<project>-<experimenter>-<YYYY-MM-DD>`` and return its config path.

    Parameters
    ----------
    project: the task name (``Task`` in config.yaml), e.g. ``openfield``.
    experimenter: who labels (``scorer`` in config.yaml); names the labels files.
    videos: video files or folders of videos to add.
    working_directory: where to create the project folder (default: the current folder); a local
        path or an ``s3://bucket/prefix`` URL.
    copy_videos: copy the videos into ``videos/`` instead of linking them.
    multianimal: multi-animal projects are not supported yet; True is refused.
    """
    if multianimal:
        raise PoseringError("multianimal=True: posering creates single-animal projects only for now "
                            "(use DeepLabCut for multi-animal projects)")
    for what, value in (("project", project), ("experimenter", experimenter)):
        if not value or any(ch in value for ch in "/\\ "):
            raise PoseringError(f"{what} name {value!r} must be non-empty, without spaces or slashes")
    today = dt.date.today()
    folder_name = f"{project}-{experimenter}-{today.isoformat()}"
    root = storage.join(storage.normalize(working_directory or "."), folder_name)
    config_location = storage.join(root, "config.yaml")
    if storage.exists(config_location):
        log.warning("project %s already exists; nothing was changed", root)
        return config_location

    video_list = collect_videos(videos)
    if not video_list:
        raise PoseringError(f"no videos found in {videos}; pass video files or folders holding them")
    infos = _probe_all(video_list)  # refuse unreadable videos before anything is created

    for sub in ("videos", "labeled-data", "training-datasets", "dlc-models"):
        storage.makedirs(storage.join(root, sub))
    data = {"Task": project, "scorer": experimenter, "date": today.strftime("%b") + str(today.day),
            "project_path": root, "video_sets": {}, **DEFAULTS}
    config = ProjectConfig(data, config_location)
    _add_videos(config, video_list, infos, copy_videos)
    config.save()
    log.info("created project %s with %d videos", root, len(video_list))
    return config_location


def add_new_videos(config: str, videos: list[str], copy_videos: bool = False) -> list[str]:
    """Add videos to an existing project (linked, or copied with ``copy_videos``).

    Returns the videos' locations inside the project. Videos already in the project are skipped.
    """
    cfg = ProjectConfig.load(config)
    video_list = collect_videos(videos)
    infos = _probe_all(video_list)
    added = _add_videos(cfg, video_list, infos, copy_videos)
    cfg.save()
    return added


def _probe_all(video_list: list[str]) -> dict:
    return {video: probe(video) for video in video_list}


def _add_videos(config: ProjectConfig, video_list: list[str], infos: dict, copy_videos: bool) -> list[str]:
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
