"""create_new_project: a new project folder, its config.yaml and its videos."""

from __future__ import annotations

import datetime as dt
import logging

from posering import storage
from posering.errors import PoseringError
from posering.project.config import DEFAULTS, ProjectConfig
from posering.project.paths import CONFIG_FILE, NEW_PROJECT_DIRS
from posering.project.videos import add_videos_to_config, collect_videos, probe_all

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
    config_location = storage.join(root, CONFIG_FILE)
    if storage.exists(config_location):
        log.warning("project %s already exists; nothing was changed", root)
        return config_location

    video_list = collect_videos(videos)
    if not video_list:
        raise PoseringError(f"no videos found in {videos}; pass video files or folders holding them")
    infos = probe_all(video_list)  # refuse unreadable videos before anything is created

    for sub in NEW_PROJECT_DIRS:
        storage.makedirs(storage.join(root, sub))
    data = {"Task": project, "scorer": experimenter, "date": today.strftime("%b") + str(today.day),
            "project_path": root, "video_sets": {}, **DEFAULTS}
    config = ProjectConfig(data, config_location)
    add_videos_to_config(config, video_list, infos, copy_videos)
    config.save()
    log.info("created project %s with %d videos", root, len(video_list))
    return config_location
