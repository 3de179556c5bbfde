"""extract_outlier_frames: send the frames the network got wrong back for labeling.

Three phases, so a person can tune the parameters before anything is written:

1. find (one Ray task per video when there are several): the candidate frames of each video's
   analysis, by `posering.post.outliers.find_outlier_candidates` (``jump``, ``uncertain``,
   ``fitting``; ``list`` and ``manual`` take the caller's frames);
2. report how many frames matched, and ask whether to go on, unless ``automatic`` or when
   stdin is not a terminal (a job or a pipe never blocks);
3. extract (again a task per video): pick ``numframes2pick`` of the candidates (k-means on
   thumbnails, or uniformly), save them as ``labeled-data/<video>/img<index>.png`` beside the
   frames already there (an existing image is never overwritten nor picked again), append their
   predictions to ``machinelabels-iter<N>.h5`` (+ ``machinelabels.csv``) in the CollectedData
   layout with likelihood, ready for refinement, and with ``savelabeled`` draw them into
   ``labeled-data/<video>_outliers_labeled/``.

Videos that are not in config.yaml's video_sets are added, with the crop of the whole frame.
Coordinates are full-frame: DeepLabCut's crop-relative analyses are shifted back first.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd

from posering import labels, storage
from posering.errors import PoseringError
from posering.frames.extract_frames import existing_frame_indices
from posering.frames.images import encode_png, save_frames
from posering.frames.kmeans import TARGET_CANDIDATES, pick_kmeans, rng_for, thumbnail
from posering.post.analysis_files import (AnalysisTarget, analysis_crop, analysis_targets, full_frame_poses,
                                          map_videos, read_poses_file)
from posering.post.outliers import find_outlier_candidates
from posering.post.poses import get_bodyparts, to_arrays
from posering.project import ProjectPaths
from posering.project.config import ProjectConfig
from posering.project.paths import LABELED_DATA, frame_image_name
from posering.video import VideoReader

log = logging.getLogger("posering.frames")

OUTLIER_ALGORITHMS = ("jump", "uncertain", "fitting", "list", "manual")


@dataclass(frozen=True)
class OutlierJob:
    """One video's extraction: plain values, so it travels to a Ray worker."""

    target: AnalysisTarget
    folder: str  # labeled-data/<stem>
    machine_labels: str
    machine_labels_csv: str
    labeled_folder: str | None  # savelabeled
    numframes: int
    algorithm: str  # kmeans | uniform
    cluster_resizewidth: int
    cluster_color: bool
    seed: int
    style: tuple  # (colormap, dotsize, alphavalue, pcutoff) for savelabeled


def extract_outlier_frames(
    config: str,
    videos: list[str] | str,
    videotype: str = "",
    shuffle: int = 1,
    trainingsetindex: int = 0,
    outlieralgorithm: str = "jump",
    frames2use: list[int] | dict | None = None,
    comparisonbodyparts: str | list[str] = "all",
    epsilon: float = 20,
    p_bound: float = 0.01,
    ARdegree: int = 3,
    MAdegree: int = 1,
    alpha: float = 0.01,
    extractionalgorithm: str = "kmeans",
    automatic: bool = False,
    cluster_resizewidth: int = 30,
    cluster_color: bool = False,
    savelabeled: bool = False,
    destfolder: str | None = None,
    seed: int = 0,
) -> dict[str, dict]:
    """Extract frames where the predictions look wrong, with the predictions, for refinement.

    Returns, per video: candidates (how many frames matched), added (frames saved), frames
    (their indices), folder and machinelabels file; 'skipped' when declined at the prompt.

    Parameters
    ----------
    config: path or URL of the project's config.yaml (start, stop, numframes2pick).
    videos: analysed video files, folders of videos or s3:// prefixes.
    videotype: only videos with this extension in folders (e.g. .mp4); default: all video types.
    shuffle: the shuffle whose model analysed the videos (names the analysis files).
    trainingsetindex: which TrainingFraction of config.yaml that model was trained with.
    outlieralgorithm: 'jump' (a bodypart moved more than epsilon pixels since the previous frame),
        'uncertain' (a likelihood below p_bound), 'fitting' (more than epsilon pixels off a
        SARIMAX fit), 'list' or 'manual' (the frames in frames2use).
    frames2use: list/manual: frame indices, for every video, or {video name: [indices]}.
    comparisonbodyparts: 'all' or the bodyparts the search looks at.
    epsilon: jump/fitting: distance in pixels.
    p_bound: uncertain: likelihood bound; fitting: points below it are missing for the fit.
    ARdegree: fitting: autoregressive order.
    MAdegree: fitting: moving-average order.
    alpha: fitting: significance level of the fit's confidence interval.
    extractionalgorithm: 'kmeans' (candidates that look different from one another) or 'uniform'.
    automatic: do not ask before extracting (never asked when stdin is not a terminal).
    cluster_resizewidth: kmeans: width in pixels of the thumbnails that are clustered.
    cluster_color: kmeans: cluster colour thumbnails instead of grayscale ones.
    savelabeled: also draw the extracted frames with their predictions into
        labeled-data/<video>_outliers_labeled/.
    destfolder: where the analysis files are (default: beside each video).
    seed: seed of the random choices; the same seed picks the same frames.
    """
    if outlieralgorithm not in OUTLIER_ALGORITHMS:
        raise PoseringError(f"outlieralgorithm={outlieralgorithm!r}: use one of {', '.join(OUTLIER_ALGORITHMS)}")
    if extractionalgorithm not in ("kmeans", "uniform"):
        raise PoseringError(f"extractionalgorithm={extractionalgorithm!r}: use 'kmeans' or 'uniform'")
    cfg, targets = analysis_targets(config, videos, videotype, shuffle, trainingsetindex, destfolder)
    stems = [storage.stem(t.video) for t in targets]
    if len(set(stems)) != len(stems):
        raise PoseringError("two videos share a name; their labeled-data folders would collide: rename one")
    search = dict(outlieralgorithm="list" if outlieralgorithm == "manual" else outlieralgorithm,
                  comparisonbodyparts=comparisonbodyparts, epsilon=epsilon, p_bound=p_bound,
                  ARdegree=ARdegree, MAdegree=MAdegree, alpha=alpha, start=float(cfg["start"]),
                  stop=float(cfg["stop"]), numframes2pick=int(cfg["numframes2pick"]))
    if outlieralgorithm == "fitting" and len(targets) == 1:
        from posering.ray_utils import ensure_ray

        ensure_ray()  # one video: its bodypart/axis fits are the parallel work
    found = map_videos(find_candidates, [(t, {**search, "frames2use": _frames_for(frames2use, t.video)})
                                         for t in targets])
    results, jobs = {}, []
    for target, candidates in zip(targets, found):
        log.info("%s: %d frames match outlieralgorithm=%r", target.video, len(candidates), outlieralgorithm)
        if not candidates:
            results[target.video] = {"candidates": 0, "added": 0, "frames": []}
        elif automatic or _confirm(target.video, len(candidates), int(cfg["numframes2pick"])):
            jobs.append((_job(cfg, target, extractionalgorithm, cluster_resizewidth, cluster_color,
                              savelabeled, seed), candidates))
        else:
            results[target.video] = {"candidates": len(candidates), "added": 0, "frames": [], "skipped": True}
    for (job, candidates), result in zip(jobs, map_videos(extract_video_outliers, jobs)):
        log.info("%s: %d outlier frames into %s", job.target.video, result["added"], job.folder)
        results[job.target.video] = {"candidates": len(candidates), **result}
    _add_to_config(cfg, [job.target.video for job, _ in jobs])
    return results


def _frames_for(frames2use, video: str) -> list[int] | None:
    if not isinstance(frames2use, dict):
        return frames2use
    for key, frames in frames2use.items():
        if str(key) in (video, storage.name(video), storage.stem(video)):
            return frames
    return None


def find_candidates(target: AnalysisTarget, search: dict) -> list[int]:
    """Candidate frame indices of one video (a Ray task when there are several videos)."""
    df = full_frame_poses(read_poses_file(target.poses_file()), analysis_crop(target))
    return [int(i) for i in find_outlier_candidates(df, parallel="ray", **search)]


def _confirm(video: str, count: int, numframes: int) -> bool:
    """Ask on a terminal; without one (a job, a pipe) go on without asking."""
    if not sys.stdin or not sys.stdin.isatty():
        return True
    answer = input(f"{storage.name(video)}: {count} frames match; extract up to {numframes} of them? [yes/no] ")
    return answer.strip().lower() in ("y", "yes")


def _job(cfg: ProjectConfig, target: AnalysisTarget, algorithm: str, cluster_resizewidth: int,
         cluster_color: bool, savelabeled: bool, seed: int) -> OutlierJob:
    paths, stem = ProjectPaths(cfg), storage.stem(target.video)
    style = (str(cfg.get("colormap", "rainbow")), float(cfg.get("dotsize", 8)),
             float(cfg.get("alphavalue", 0.7)), float(cfg.get("pcutoff", 0.6)))
    return OutlierJob(target, paths.labeled_folder(stem), paths.machine_labels(stem),
                      paths.machine_labels_csv(stem),
                      paths.outliers_labeled_folder(stem) if savelabeled else None,
                      int(cfg["numframes2pick"]), algorithm, int(cluster_resizewidth), bool(cluster_color),
                      int(seed), style)


def extract_video_outliers(job: OutlierJob, candidates: list[int]) -> dict:
    """Pick, save and record one video's outlier frames (a Ray task when there are several)."""
    df = full_frame_poses(read_poses_file(job.target.poses_file()), analysis_crop(job.target))
    existing = existing_frame_indices(job.folder)
    with VideoReader(job.target.video) as reader:
        nframes = reader.frame_count
        pool = np.array([i for i in candidates if i not in existing and 0 <= i < nframes and i in df.index])
        chosen = _choose(reader, pool, job, rng_for(job.seed, storage.name(job.target.video)))
    if not chosen:
        log.warning("%s: every candidate frame is already in %s", job.target.video, job.folder)
        return {"added": 0, "frames": [], "folder": job.folder, "machinelabels": job.machine_labels}
    written, _ = save_frames(job.target.video, chosen, job.folder)
    names = {frame_image_name(i, nframes): i for i in chosen}
    saved = [names[n] for n in written]
    table = _machine_table(df, saved, storage.stem(job.target.video), nframes)
    _append_machine_labels(table, job)
    if job.labeled_folder:
        _draw_labeled(job, table, saved, nframes)
    return {"added": len(saved), "frames": sorted(saved), "folder": job.folder, "machinelabels": job.machine_labels}


def _choose(reader: VideoReader, pool: np.ndarray, job: OutlierJob, rng: np.random.Generator) -> list[int]:
    if len(pool) <= job.numframes:
        return sorted(int(i) for i in pool)
    if job.algorithm == "uniform":
        return sorted(int(i) for i in rng.choice(pool, size=job.numframes, replace=False))
    if len(pool) > TARGET_CANDIDATES:  # enough to cluster; thumbnails of all would only be slower
        pool = np.sort(rng.choice(pool, size=TARGET_CANDIDATES, replace=False))
    thumbs = [thumbnail(frame, job.cluster_resizewidth, job.cluster_color) for _, frame in reader.read_many(pool)]
    return pick_kmeans(pool, np.stack(thumbs), job.numframes, rng)


def _machine_table(df: pd.DataFrame, frames: list[int], stem: str, nframes: int) -> pd.DataFrame:
    """The predictions of ``frames`` in the CollectedData layout (x, y, likelihood per bodypart)."""
    bodyparts = get_bodyparts(df)
    x, y, p = to_arrays(df.loc[frames], bodyparts)
    relpaths = [f"{LABELED_DATA}/{stem}/{frame_image_name(i, nframes)}" for i in frames]
    scorer = str(df.columns.get_level_values(0)[0])
    return labels.from_arrays(scorer, bodyparts, relpaths, np.stack([x, y], axis=-1), likelihood=p)


def _append_machine_labels(table: pd.DataFrame, job: OutlierJob) -> None:
    """Add rows to machinelabels-iter<N>.h5; rows already there are kept as they are."""
    if storage.exists(job.machine_labels):
        existing = labels.read_labels(job.machine_labels)
        table = labels.with_index_form(table, existing.index)
        table.columns = table.columns.set_levels([labels.scorer_of(existing)], level=0)
        table = pd.concat([existing, table[~table.index.isin(existing.index)]]).sort_index()
    labels.write_labels(table, job.machine_labels, csv=False)
    with storage.atomic_write(job.machine_labels_csv, "w") as handle:
        table.to_csv(handle)


def _draw_labeled(job: OutlierJob, table: pd.DataFrame, frames: list[int], nframes: int) -> None:
    from posering.viz.draw import PoseStyle, draw_poses, visible_points

    colormap, dotsize, alphavalue, pcutoff = job.style
    bodyparts = labels.bodyparts_of(table)
    style = PoseStyle.make(bodyparts, colormap, dotsize, alphavalue, pcutoff)
    values = table.to_numpy(dtype=float).reshape(len(table), len(bodyparts), 3)
    points = visible_points(values[..., :2], values[..., 2], pcutoff)
    storage.makedirs(job.labeled_folder)
    with VideoReader(job.target.video) as reader:
        for row, (index, frame) in enumerate(reader.read_many(frames)):
            name = frame_image_name(index, nframes)
            storage.write_bytes(storage.join(job.labeled_folder, name), encode_png(draw_poses(frame, points[row], style)))


def _add_to_config(cfg: ProjectConfig, videos: list[str]) -> None:
    """Add videos that video_sets does not list (by name), with the crop of the whole frame."""
    known = {storage.stem(key) for key in cfg.video_sets}
    video_sets, added = cfg.video_sets, []
    for video in videos:
        if storage.stem(video) in known:
            continue
        with VideoReader(video) as reader:
            width, height = reader.size
        video_sets[video] = {"crop": f"0, {width}, 0, {height}"}
        added.append(video)
    if added:
        cfg["video_sets"] = video_sets
        cfg.save()
        log.info("added %s to video_sets of %s", ", ".join(added), cfg.location)
