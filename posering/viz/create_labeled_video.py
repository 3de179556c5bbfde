"""create_labeled_video: the video with its analysed poses drawn on every frame.

Output: ``<stem><scorer>[_filtered]_p<int(100*pcutoff)>_labeled.mp4`` beside the video (or in
``destfolder``), DeepLabCut 3's name, with exactly as many frames as the video.

Two drawing paths share one style (`posering.viz.draw.PoseStyle`, from config.yaml):

* fast (default): OpenCV draws each frame (`posering.viz.draw`);
* ``save_frames=True``: matplotlib draws each frame (`posering.viz.frame_figure`), and every frame
  is also kept as a PNG in ``temp-<stem>/``.

Either way a video is streamed, never held in memory. Several videos are rendered in parallel,
one Ray task each. Frame ranges of one video (``num_workers=N``, and by default with
``save_frames`` on long videos) are rendered as Ray tasks into segment files
(`posering.viz.render`) and joined in order into the mp4 as they finish. One video on the fast
path is rendered here in one pass, decoding, drawing and encoding overlapping in three threads:
OpenCV encodes an mp4 on one thread, so splitting the drawing would not make it faster.

Coordinates: posering's analysis files are in full-frame pixels; DeepLabCut's are relative to the
crop its ``_meta.pickle`` records, and are shifted back. ``displaycropped`` shows only that crop.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math

import numpy as np

from posering import storage
from posering.errors import PoseringError
from posering.post.analysis_files import (AnalysisTarget, analysis_crop, analysis_targets, full_frame_poses,
                                          read_poses_file)
from posering.post.poses import resolve_bodyparts, to_arrays
from posering.project.paths import labeled_frames_folder, labeled_video_file
from posering.video import VideoReader
from posering.viz.draw import PoseStyle, visible_points
from posering.viz.render import RenderJob, join_segments, render_segment, render_whole

log = logging.getLogger("posering.viz")

PARTS_FOLDER = ".posering-parts"
# Below this many frames a video is rendered in one pass: splitting would cost more than it saves.
MIN_SEGMENT = 300


def create_labeled_video(
    config: str,
    videos: list[str] | str,
    videotype: str = "",
    shuffle: int = 1,
    trainingsetindex: int = 0,
    filtered: bool = False,
    save_frames: bool = False,
    draw_skeleton: bool = False,
    trailpoints: int = 0,
    displayedbodyparts: str | list[str] = "all",
    keypoints_only: bool = False,
    displaycropped: bool = False,
    pcutoff: float | None = None,
    codec: str = "mp4v",
    outputframerate: float | None = None,
    destfolder: str | None = None,
    overwrite: bool = False,
    dotsize: int | None = None,
    colormap: str | None = None,
    alphavalue: float | None = None,
    num_workers: int | None = None,
    segment_frames: int | None = None,
) -> dict[str, str]:
    """Draw the analysed poses on every frame of videos; writes <video><scorer>_p<pcutoff>_labeled.mp4.

    Returns, per video, the labeled video (made now or found from an earlier run).

    Parameters
    ----------
    config: path or URL of the project's config.yaml (colormap, dotsize, alphavalue, pcutoff,
        skeleton, skeleton_color).
    videos: video files, folders of videos or s3:// prefixes to label.
    videotype: only videos with this extension in folders (e.g. .mp4); default: all video types.
    shuffle: the shuffle whose model analysed the videos (names the analysis files).
    trainingsetindex: which TrainingFraction of config.yaml that model was trained with.
    filtered: draw the filtered poses (<video><scorer>_filtered.h5).
    save_frames: draw with matplotlib (slower, finer) and keep every frame as a PNG in temp-<video>/.
    draw_skeleton: draw the bones of config.yaml's skeleton in skeleton_color.
    trailpoints: also draw each bodypart's path over this many previous frames.
    displayedbodyparts: 'all' or a list of the bodyparts to draw.
    keypoints_only: Johansson style: the points (and skeleton) on a black background.
    displaycropped: show only the region the video was analysed in, when the analysis was cropped.
    pcutoff: points with a lower likelihood are not drawn (default: config's pcutoff).
    codec: four-character code of the output video's codec (mp4v; avc1 where OpenCV has it).
    outputframerate: frames per second of the output (default: the video's); no frame is dropped.
    destfolder: where the analysis files are and the labeled video goes (default: beside each video).
    overwrite: make the labeled video again if it exists.
    dotsize: radius of the dots in pixels (default: config's dotsize).
    colormap: matplotlib colormap of the bodyparts (default: config's colormap).
    alphavalue: opacity of the drawing, 0 to 1 (default: config's alphavalue).
    num_workers: 0: everything in this process; N: frame ranges as Ray tasks, about two per
        worker (default: one Ray task per video when there are several, ranges on Ray for
        videos longer than 300 frames with save_frames, else this process).
    segment_frames: frames per Ray range (default: from the video length and the workers).
    """
    cfg, targets = analysis_targets(config, videos, videotype, shuffle, trainingsetindex, destfolder)
    cut = float(cfg.get("pcutoff", 0.6) if pcutoff is None else pcutoff)
    settings = dict(
        colormap=str(colormap or cfg.get("colormap", "rainbow")),
        dotsize=float(dotsize if dotsize is not None else cfg.get("dotsize", 8)),
        alpha=float(alphavalue if alphavalue is not None else cfg.get("alphavalue", 0.7)),
        pcutoff=cut,
        skeleton=cfg.skeleton if draw_skeleton else [],
        skeleton_color=str(cfg.get("skeleton_color", "black")),
        trailpoints=int(trailpoints),
        keypoints_only=bool(keypoints_only),
    )
    results, plans = {}, []
    for target in targets:
        output = labeled_video_file(target.video, target.scorer, cut, filtered, target.destfolder)
        if storage.exists(output) and not overwrite:
            log.info("%s: labeled video exists (%s); pass overwrite=True to make it again", target.video, output)
            results[target.video] = output
            continue
        plans.append(_plan(target, output, filtered, displayedbodyparts, settings, displaycropped,
                           codec, outputframerate, save_frames, overwrite))
    if not plans:
        return results
    outputs = _render(plans, num_workers, segment_frames, save_frames)
    for (job, _), output in zip(plans, outputs):
        log.info("%s: %d frames into %s", job.video, job.nframes, output)
        results[job.video] = output
    return results


def _render(plans: list[tuple[RenderJob, np.ndarray]], num_workers: int | None, segment_frames: int | None,
            save_frames: bool) -> list[str]:
    """Render every planned video: here, one Ray task per video, or frame ranges on Ray.

    OpenCV encodes an mp4 on one thread, and the fast path draws faster than that, so one
    video gains nothing from ranges (measured: docs/benchmarks.md); matplotlib draws far slower
    than the encoder, so there ranges pay off. Several videos are one Ray task each.
    """
    longest = max(job.nframes for job, _ in plans)
    ranges = bool(num_workers) or (num_workers is None and save_frames and longest > MIN_SEGMENT)
    if num_workers == 0 or (num_workers is None and len(plans) == 1 and not ranges):
        return [render_whole(job, points) for job, points in plans]
    from posering.ray_utils import ensure_ray, run_tasks

    if not ranges:
        return run_tasks(render_whole, plans)
    workers = num_workers or max(1, int(ensure_ray().cluster_resources().get("CPU", 1)))
    return run_tasks(render_video_on_ray, [(job, points, segment_frames or _segment_size(job.nframes, workers, save_frames))
                                           for job, points in plans])


def _plan(target: AnalysisTarget, output: str, filtered: bool, displayedbodyparts, settings: dict,
          displaycropped: bool, codec: str, outputframerate: float | None, save_frames: bool,
          overwrite: bool) -> tuple[RenderJob, np.ndarray]:
    """The render job of one video and its points (frames, bodyparts, 2) in output pixels."""
    source = target.poses_file(filtered=filtered)
    crop = analysis_crop(target)
    df = full_frame_poses(read_poses_file(source), crop)
    bodyparts = resolve_bodyparts(df, displayedbodyparts, source)
    style = PoseStyle.make(bodyparts, **settings)
    with VideoReader(target.video) as reader:
        nframes, fps, size = reader.frame_count, reader.fps, reader.size
    x, y, p = to_arrays(df, bodyparts)
    if len(df) != nframes:
        log.warning("%s: the pose table has %d rows but the video %d frames; frames without a row "
                    "are shown without points", source, len(df), nframes)
    points = np.full((nframes, len(bodyparts), 2), np.nan)
    rows = df.index.to_numpy()
    inside = (rows >= 0) & (rows < nframes)
    points[rows[inside]] = visible_points(np.stack([x, y], axis=-1), p, style.pcutoff)[inside]
    shown = None
    if displaycropped:
        if crop.crop is None:
            log.info("%s: displaycropped: the analysis was not cropped; showing whole frames", target.video)
        else:
            shown = crop.crop
            if shown.x2 > size[0] or shown.y2 > size[1]:
                raise PoseringError(f"{target.video}: the analysis crop {shown} reaches outside the "
                                    f"{size[0]}x{size[1]} video")
            points = points - np.array([shown.x1, shown.y1], dtype=float)
            size = (shown.width, shown.height)
    fps_out = float(outputframerate) if outputframerate else (fps or 30.0)
    key = hashlib.sha1(repr((style, shown, codec, fps_out, save_frames)).encode() + points.tobytes()).hexdigest()[:10]
    parts_dir = storage.join(storage.parent(output), PARTS_FOLDER, f"{storage.name(output)}-{key}")
    if overwrite:
        storage.remove(parts_dir, recursive=True)
    frames_dir = labeled_frames_folder(target.video, target.destfolder) if save_frames else None
    job = RenderJob(target.video, output, parts_dir, nframes, fps_out, tuple(size), style, shown, codec, frames_dir)
    return job, points


def _segment_size(nframes: int, workers: int, matplotlib: bool = False) -> int:
    """About two ranges per worker, none shorter than a few seconds of drawing (MIN_SEGMENT frames
    on the fast path, a fifth of that with matplotlib, which draws about ten times slower)."""
    shortest = MIN_SEGMENT // 5 if matplotlib else MIN_SEGMENT
    return max(shortest, math.ceil(nframes / (2 * max(1, workers))))


@functools.cache
def _segment_task():
    import ray

    return ray.remote(num_cpus=1)(render_segment)


def render_video_on_ray(job: RenderJob, points: np.ndarray, segment_frames: int) -> str:
    """One video, as a Ray task: its ranges as nested tasks, joined in order as they finish.

    Nested tasks inherit this task's runtime environment (storage settings). While this task
    waits for a segment Ray lends its CPU to the range tasks.
    """
    import ray

    shared = ray.put(points)  # one copy in the object store for every range task
    starts = range(0, job.nframes, max(1, int(segment_frames)))
    refs = [_segment_task().remote(job, shared, start, min(start + segment_frames, job.nframes))
            for start in starts]
    try:
        return join_segments(job, refs)
    except BaseException:
        for ref in refs:
            ray.cancel(ref)
        raise
