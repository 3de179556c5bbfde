"""add_new_videos: more videos for an existing project."""

from __future__ import annotations

from posering.project.config import ProjectConfig
from posering.project.videos import add_videos_to_config, collect_videos, probe_all


def add_new_videos(config: str, videos: list[str], copy_videos: bool = False) -> list[str]:
    """Add videos to an existing project (linked, or copied with ``copy_videos``).

    Returns the videos' locations inside the project. Videos already in the project are skipped.
    """
    cfg = ProjectConfig.load(config)
    video_list = collect_videos(videos)
    infos = probe_all(video_list)
    added = add_videos_to_config(cfg, video_list, infos, copy_videos)
    cfg.save()
    return added
