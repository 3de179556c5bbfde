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

import hashlib
import logging
import math

import numpy as np

from posering import storage
from posering.errors import PoseringError
from posering.formats.poses import full_frame_poses, read_poses_file
from posering.per_video import AnalysedVideos, analysis_step
from posering.post.analysis_files import AnalysisTarget
from posering.post.pose_table import resolve_bodyparts, to_arrays
from posering.project.paths import PARTS_DIR, labeled_frames_folder, labeled_video_file
from posering.ray_utils import fan_out_in_order
from posering.video import VideoReader
from posering.viz.draw import PoseStyle, visible_points
from posering.viz.render import RenderJob, join_segments, render_segment, render_whole

log = logging.getLogger("posering.viz")

# Below this many frames a video is rendered in one pass: splitting would cost more than it saves.
MIN_SEGMENT = 300


@analysis_step()
def create_labeled_video(
    videos: AnalysedVideos,
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

    The style comes from config.yaml (colormap, dotsize, alphavalue, pcutoff, skeleton,
    skeleton_color) unless given here. Returns, per video, the labeled video (made now or found
    from an earlier run).

    Parameters
    ----------
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
    cfg = videos.cfg
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

    def output(target: AnalysisTarget) -> str:
        return labeled_video_file(target.video, target.scorer, cut, filtered, target.destfolder)

    todo = videos.todo(output, overwrite)
    plans = videos.each(_plan, {t.video: (t, output(t), filtered, displayedbodyparts, settings, displaycropped,
                                          codec, outputframerate, save_frames, overwrite) for t in todo},
                        on_ray=False)
    rendered = _render(videos, plans, num_workers, segment_frames, save_frames) if plans else {}
    for video, output_file in rendered.items():
        log.info("%s: %d frames into %s", video, plans[video][0].nframes, output_file)
    return videos.finish(rendered)


def _render(videos: AnalysedVideos, plans: dict[str, tuple[RenderJob, np.ndarray]], num_workers: int | None,
            segment_frames: int | None, save_frames: bool) -> dict[str, str]:
    """Render every planned video: here, one Ray task per video, or frame ranges on Ray.

    OpenCV encodes an mp4 on one thread, and the fast path draws faster than that, so one
    video gains nothing from ranges (measured: docs/benchmarks.md); matplotlib draws far slower
    than the encoder, so there ranges pay off. Several videos are one Ray task each.
    """
    longest = max(job.nframes for job, _ in plans.values())
    ranges = bool(num_workers) or (num_workers is None and save_frames and longest > MIN_SEGMENT)
    if not ranges:  # one task per video: several on Ray (unless num_workers=0), one here
        return videos.each(render_whole, plans, on_ray=False if num_workers == 0 else None)
    if num_workers:
        workers = num_workers
    else:
        from posering.ray_utils import cluster_cpus, ensure_ray

        workers = max(1, cluster_cpus(ensure_ray())[0])
    return videos.each(render_video_on_ray, {
        video: (job, points, segment_frames or _segment_size(job.nframes, workers, save_frames))
        for video, (job, points) in plans.items()}, on_ray=True)


def _plan(target: AnalysisTarget, output: str, filtered: bool, displayedbodyparts, settings: dict,
          displaycropped: bool, codec: str, outputframerate: float | None, save_frames: bool,
          overwrite: bool) -> tuple[RenderJob, np.ndarray]:
    """The render job of one video and its points (frames, bodyparts, 2) in output pixels."""
    source = target.poses_file(filtered=filtered)
    meta = target.meta()
    df = full_frame_poses(read_poses_file(source), meta)
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
        if meta.crop is None:
            log.info("%s: displaycropped: the analysis was not cropped; showing whole frames", target.video)
        else:
            shown = meta.crop
            if shown.x2 > size[0] or shown.y2 > size[1]:
                raise PoseringError(f"{target.video}: the analysis crop {shown} reaches outside the "
                                    f"{size[0]}x{size[1]} video")
            points = points - np.array([shown.x1, shown.y1], dtype=float)
            size = (shown.width, shown.height)
    fps_out = float(outputframerate) if outputframerate else (fps or 30.0)
    key = hashlib.sha1(repr((style, shown, codec, fps_out, save_frames)).encode() + points.tobytes()).hexdigest()[:10]
    parts_dir = storage.join(storage.parent(output), PARTS_DIR, f"{storage.name(output)}-{key}")
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


def render_video_on_ray(job: RenderJob, points: np.ndarray, segment_frames: int) -> str:
    """One video, as a Ray task: its ranges as nested tasks, joined in order as they finish.

    Nested tasks inherit this task's runtime environment (storage settings). While this task
    waits for a segment Ray lends its CPU to the range tasks; the points travel to the object
    store once, for every range.
    """
    step = max(1, int(segment_frames))
    ranges = [(job, points, start, min(start + step, job.nframes)) for start in range(0, job.nframes, step)]
    segments = fan_out_in_order(render_segment, ranges)
    try:
        return join_segments(job, segments)
    finally:
        segments.close()  # cancels the ranges not rendered yet when joining stopped early
