"""extract_frames: pick frames of the project's videos and save them for labeling.

Frames are saved as ``labeled-data/<video stem>/img<index>.png`` with the frame's index in the
video, zero-padded to the video's digit count, so every image traces back to its video position.
Existing images are never overwritten (they may be labeled) and never chosen again: a second run
adds new frames. With several videos each is a Ray task; one video runs right here.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

from posering import storage
from posering.errors import ConfigError, PoseringError, VideoError
from posering.frames.images import save_frames
from posering.frames.kmeans import pick_kmeans, pick_uniform, rng_for, sample_thumbnails
from posering.project import ProjectPaths, load_config
from posering.project.config import Crop, ProjectConfig, is_placeholder
from posering.project.paths import frame_index_from_name
from posering.project.videos import resolve_video
from posering.video import VideoReader

log = logging.getLogger("posering.frames")

MODES = ("automatic", "manual")
ALGORITHMS = ("kmeans", "uniform")


@dataclass(frozen=True)
class ExtractionJob:
    """Everything one video's extraction needs; plain values, so it travels to a Ray worker."""

    video: str
    folder: str
    crop: Crop | None
    algo: str
    numframes: int
    start: float
    stop: float
    cluster_step: int
    cluster_resizewidth: int
    cluster_color: bool
    seed: int
    indices: tuple[int, ...] | None = None  # manual mode: exactly these frames


def extract_frames(config: str, mode: str = "automatic", algo: str = "kmeans", crop: bool = False,
                   userfeedback: bool = False, cluster_step: int = 1, cluster_resizewidth: int = 30,
                   cluster_color: bool = False, videos_list: list[str] | None = None,
                   frames: dict | None = None, seed: int = 0) -> dict[str, dict]:
    """Extract frames to label from the project's videos into labeled-data/<video>/.

    Returns, per video, the folder and how many frames were added and skipped (already there).

    Parameters
    ----------
    config: path or URL of the project's config.yaml.
    mode: 'automatic' picks numframes2pick frames per video between the start and stop fractions
        of config.yaml; 'manual' saves exactly the frames given in `frames`.
    algo: 'kmeans' (frames that look different from one another) or 'uniform' (at random).
    crop: crop the saved frames to each video's `crop` box in video_sets (labels are then in the
        cropped frame's coordinates).
    userfeedback: ask on the terminal before each video (never asks when stdin is not a terminal).
    cluster_step: kmeans: consider every cluster_step-th frame (long videos get a larger step).
    cluster_resizewidth: kmeans: width in pixels of the thumbnails that are clustered.
    cluster_color: kmeans: cluster colour thumbnails instead of grayscale ones.
    videos_list: only these videos of video_sets (paths or names); default all of them.
    frames: manual mode: {video path or name: [frame indices]}, e.g. '{m3v1mp4: [12, 13, 400]}'.
    seed: seed of the random choices; the same seed picks the same frames.
    """
    cfg = load_config(config)
    if mode not in MODES:
        raise PoseringError(f"mode={mode!r}: use 'automatic' or 'manual'")
    if algo not in ALGORITHMS:
        raise PoseringError(f"algo={algo!r}: use 'kmeans' or 'uniform'")
    if mode == "manual":
        if not frames:
            raise PoseringError("mode='manual' needs frames={'<video path or name>': [frame indices]}")
        selection = list(frames)
    else:
        selection = videos_list
    jobs = []
    for key, location in select_videos(cfg, selection):
        indices = None
        if mode == "manual":
            indices = tuple(_frame_list(frames, key, location))
        if userfeedback and not _confirm(location):
            continue
        jobs.append(_job(cfg, key, location, algo, crop, cluster_step, cluster_resizewidth,
                         cluster_color, seed, indices))
    return _run(jobs)


def select_videos(cfg: ProjectConfig, selection: list[str] | None) -> list[tuple[str, str]]:
    """(video_sets key, where the video is) for the selected videos, all of them by default."""
    keys = [key for key in cfg.video_sets if not is_placeholder(key)]
    if not keys:
        raise ConfigError(f"{cfg.location}: video_sets lists no videos; add them with "
                          "`posering add_new_videos <config> <videos>`")
    if selection is not None:
        chosen = []
        for entry in ([selection] if isinstance(selection, str) else selection):
            key = _match_key(keys, str(entry))
            if key is None:
                raise ConfigError(f"{entry}: not a video of this project (video_sets in {cfg.location}); "
                                  "add it with `posering add_new_videos <config> <video>`")
            chosen.append(key)
        keys = list(dict.fromkeys(chosen))
    located = []
    for key in keys:
        location = resolve_video(cfg, key)
        if location is None:
            raise VideoError(f"{key}: video listed in {cfg.location} is missing (also not in the "
                             "project's videos/ folder); put it back or fix its path in video_sets")
        located.append((key, location))
    return located


def _match_key(keys: list[str], entry: str) -> str | None:
    """The video_sets key an entry names: the same path, file name or stem."""
    for test in (lambda k: storage.normalize(k) == storage.normalize(entry),
                 lambda k: storage.name(k) == storage.name(entry),
                 lambda k: storage.stem(k) == entry):
        for key in keys:
            if test(key):
                return key
    return None


def _frame_list(frames: dict, key: str, location: str) -> list[int]:
    for entry, indices in frames.items():
        if _match_key([key], str(entry)) == key or storage.normalize(str(entry)) == location:
            try:
                return sorted({int(i) for i in indices})
            except (TypeError, ValueError):
                raise PoseringError(f"frames[{entry!r}]: {indices!r} is not a list of frame numbers") from None
    return []


def _confirm(location: str) -> bool:
    """Ask on a terminal; without one (a job, a pipe) extract without asking."""
    if not sys.stdin or not sys.stdin.isatty():
        log.info("userfeedback: stdin is not a terminal; extracting from %s without asking", location)
        return True
    answer = input(f"Extract frames from {location}? [yes/no] ").strip().lower()
    return answer in ("y", "yes")


def _job(cfg: ProjectConfig, key: str, location: str, algo: str, crop: bool, cluster_step: int,
         cluster_resizewidth: int, cluster_color: bool, seed: int,
         indices: tuple[int, ...] | None) -> ExtractionJob:
    if int(cluster_step) < 1 or int(cluster_resizewidth) < 1:
        raise PoseringError("cluster_step and cluster_resizewidth must be at least 1")
    box = cfg.video_crop(key) if crop else None
    if crop and box is None:
        log.warning("%s: crop=True but video_sets has no crop box for it; saving whole frames", key)
    return ExtractionJob(
        video=location, folder=ProjectPaths(cfg).labeled_folder(storage.stem(key)), crop=box,
        algo=algo, numframes=int(cfg["numframes2pick"]), start=float(cfg["start"]),
        stop=float(cfg["stop"]), cluster_step=int(cluster_step),
        cluster_resizewidth=int(cluster_resizewidth), cluster_color=bool(cluster_color),
        seed=int(seed), indices=indices)


def _run(jobs: list[ExtractionJob]) -> dict[str, dict]:
    def report(i: int, result: dict) -> None:
        log.info("%s: added %d frames, skipped %d already in %s", jobs[i].video, result["added"],
                 result["skipped"], result["folder"])

    if len(jobs) > 1:
        from posering.ray_utils import run_tasks

        results = run_tasks(extract_video, [(job,) for job in jobs], on_done=report)
    else:
        results = [extract_video(job) for job in jobs]
        for i, result in enumerate(results):
            report(i, result)
    return {job.video: result for job, result in zip(jobs, results)}


def existing_frame_indices(folder: str) -> set[int]:
    """Frame indices of the ``img*.png`` images already in a labeled-data folder."""
    found = set()
    for entry in storage.listdir(folder):
        index = frame_index_from_name(entry) if entry.lower().endswith(".png") else None
        if index is not None:
            found.add(index)
    return found


def extract_video(job: ExtractionJob) -> dict:
    """Choose and save one video's frames (runs in a Ray worker when there are several videos)."""
    existing = existing_frame_indices(job.folder)
    with VideoReader(job.video) as reader:
        _check_crop(job, reader)
        nframes = reader.frame_count
        rng = rng_for(job.seed, storage.name(job.video))
        if job.indices is not None:
            bad = [i for i in job.indices if not 0 <= i < nframes]
            if bad:
                raise VideoError(f"{job.video}: frame {bad[0]} does not exist (the video has "
                                 f"{nframes} frames, 0 to {nframes - 1})")
            chosen = [i for i in job.indices if i not in existing]
        elif job.algo == "uniform":
            chosen = pick_uniform(nframes, job.numframes, job.start, job.stop, rng, exclude=existing)
        else:
            indices, thumbs = sample_thumbnails(reader, job.start, job.stop, job.cluster_step,
                                                job.cluster_resizewidth, job.cluster_color, existing)
            chosen = pick_kmeans(indices, thumbs, job.numframes, rng)
    requested = len(job.indices) if job.indices is not None else len(chosen)
    if not chosen and job.indices is None:
        log.warning("%s: no frame left to extract between start and stop that is not already in %s",
                    job.video, job.folder)
    written, _ = save_frames(job.video, chosen, job.folder, crop=job.crop)
    return {"folder": job.folder, "added": len(written), "skipped": requested - len(written),
            "frames": sorted(int(i) for i in chosen)}


def _check_crop(job: ExtractionJob, reader: VideoReader) -> None:
    box = job.crop
    if box is not None and (box.x2 > reader.width or box.y2 > reader.height):
        raise ConfigError(f"{job.video}: crop '{box}' in video_sets reaches outside the video "
                          f"({reader.width}x{reader.height}); fix the crop box in config.yaml")
