"""Extracting frames by hand (DeepLabCut step C, manual): which video, which frame, which crop.

Frames are written by :func:`posering.extract_frames` in manual mode, so they get the names,
folder and crop that automatic extraction gives them; a crop drawn on the frame is written to the
video's ``crop`` in config.yaml. A video found in the project's ``videos/`` folder but not yet in
``video_sets`` is added with :func:`posering.add_new_videos` the first time frames are taken from
it. Seeking goes through :class:`posering.video.scrub.Scrubber`: previews while a slider moves,
exact frames to grab.
"""

from __future__ import annotations

from dataclasses import dataclass

from posering import storage
from posering.frames.extract_frames import existing_frame_indices
from posering.project import ProjectPaths, load_config
from posering.project.config import Crop, is_placeholder
from posering.project.paths import VIDEO_SUFFIXES, is_labeled_video
from posering.project.videos import resolve_video


@dataclass(frozen=True)
class ProjectVideo:
    location: str  # where the video is
    key: str | None  # its video_sets key, None while it is not listed there

    @property
    def name(self) -> str:
        return storage.name(self.location)

    @property
    def stem(self) -> str:
        return storage.stem(self.location)


def project_videos(config) -> list[ProjectVideo]:
    """The videos of video_sets that can be found, then those of videos/ not listed yet."""
    config = load_config(config)
    found: dict[str, ProjectVideo] = {}
    for key in config.video_sets:
        if is_placeholder(key):
            continue
        location = resolve_video(config, key)
        if location is not None:
            found.setdefault(storage.stem(location), ProjectVideo(location, key))
    videos_dir = ProjectPaths(config).videos_dir
    for name in storage.listdir(videos_dir):
        if name.lower().endswith(VIDEO_SUFFIXES) and not is_labeled_video(name):
            found.setdefault(storage.stem(name), ProjectVideo(storage.join(videos_dir, name), None))
    return list(found.values())


class ManualExtraction:
    """One video being scrubbed: the frame shown, the grab range, the crop box."""

    def __init__(self, config, video: ProjectVideo, nframes: int, fps: float, width: int, height: int):
        self.config = load_config(config)
        self.video = video
        self.nframes, self.fps = int(nframes), float(fps) or 30.0
        self.width, self.height = int(width), int(height)
        self.index = 0  # the frame asked for (the slider)
        self.shown: int | None = None  # the frame on screen
        self.exact = False  # whether it is exactly self.index (not a nearby preview)
        crop = self.config.video_crop(video.key) if video.key else None
        self.crop = crop or Crop(0, self.width, 0, self.height)
        self.range_start, self.range_count = 0, 10

    @property
    def folder(self) -> str:
        return ProjectPaths(self.config).labeled_folder(self.video.stem)

    def grabbed(self) -> set[int]:
        """Frames of this video already in its labeled-data folder."""
        return existing_frame_indices(self.folder)

    # -- moving -----------------------------------------------------------------------------------------
    def goto(self, index: int) -> int:
        self.index = min(max(int(index), 0), self.nframes - 1)
        return self.index

    def step(self, frames: int) -> int:
        return self.goto(self.index + frames)

    def second(self) -> int:
        return max(1, int(round(self.fps)))

    # -- the crop box ---------------------------------------------------------------------------------------
    def set_crop(self, x1: float, y1: float, x2: float, y2: float) -> Crop:
        """A box from two corners (any order), clamped to the frame, in whole pixels."""
        left, right = sorted((x1, x2))
        top, bottom = sorted((y1, y2))
        left, top = max(0, int(round(left))), max(0, int(round(top)))
        right, bottom = min(self.width, int(round(right))), min(self.height, int(round(bottom)))
        if right - left < 2 or bottom - top < 2:
            return self.crop  # too small to be meant: keep the box there was
        self.crop = Crop(left, right, top, bottom)
        return self.crop

    # -- writing (worker thread) ----------------------------------------------------------------------------
    def _listed(self) -> str:
        """The video's video_sets key, adding the video to the project first if it is not listed."""
        if self.video.key is None:
            import posering as pr

            pr.add_new_videos(self.config.location, [self.video.location])
            self.config = load_config(self.config.location)
            key = next((k for k in self.config.video_sets if storage.stem(k) == self.video.stem), None)
            self.video = ProjectVideo(self.video.location, key)
        return self.video.key

    def grab(self, indices: list[int], crop: bool = False) -> dict:
        """Save these frames as labeled-data/<video>/img<N>.png (extract_frames, manual mode)."""
        import posering as pr

        key = self._listed()
        if crop:
            self.save_crop()
        result = pr.extract_frames(self.config.location, mode="manual", frames={key: sorted(set(indices))},
                                   crop=crop)
        return next(iter(result.values()))

    def save_crop(self) -> Crop:
        """Write the crop box to the video's entry in config.yaml."""
        key = self._listed()
        config = load_config(self.config.location)
        video_sets = config.video_sets
        video_sets[key] = {**(video_sets.get(key) or {}), "crop": str(self.crop)}
        config["video_sets"] = video_sets
        config.save()
        self.config = load_config(self.config.location)
        return self.crop

    def range_indices(self) -> list[int]:
        start = min(max(int(self.range_start), 0), self.nframes - 1)
        stop = min(self.nframes, start + max(1, int(self.range_count)))
        return list(range(start, stop))
