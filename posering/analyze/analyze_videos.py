"""analyze_videos: a collection of videos -> DeepLabCut pose tables, on local Ray or a cluster."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import math
import time
from dataclasses import dataclass, field

from posering import __version__, storage
from posering.analyze.precision import choose_precision, ensure_int8_graph
from posering.analyze.runner import RunReport, run_shards
from posering.analyze.settings import AnalysisSettings, DynamicCropping
from posering.analyze.shards import Shard, plan_shards, read_parts
from posering.analyze.summary import analysed_frames, print_summary
from posering.errors import PoseringError
from posering.formats.poses import OUTPUT_FORMATS, dlc_analysis_metadata, output_locations, poses_table, write_analysis
from posering.per_video import PerVideo
from posering.project import load_config
from posering.project.config import Crop
from posering.project.models import ModelRef, resolve_model
from posering.project.videos import collect_videos
from posering.ray_utils import Resources, worker_resources
from posering.video import VideoInfo, probe
from posering.project.paths import PARTS_DIR

log = logging.getLogger("posering.analyze")


@dataclass
class VideoJob:
    video: str
    info: VideoInfo | None
    outputs: dict[str, str]
    parts_dir: str = ""
    shards: list[Shard] = field(default_factory=list)
    status: str = "pending"  # pending | skipped | done | failed
    error: str = ""
    skipped: list[tuple[int, int]] = field(default_factory=list)  # [first, after) that did not decode


def analyze_videos(
    config: str,
    videos: list[str],
    videotype: str = "",
    shuffle: int | str = 1,
    trainingsetindex: int = 0,
    gputouse: int | None = None,
    save_as_csv: bool = False,
    destfolder: str | None = None,
    batch_size: int | None = None,
    cropping: list | None = None,
    dynamic: tuple = (False, 0.5, 10),
    snapshot_index: int | None = None,
    overwrite: bool = False,
    output_format: tuple = ("h5",),
    num_workers: int | None = None,
    address: str | None = None,
    shard_frames: int | None = None,
    precision: str = "auto",
    gpus_per_worker: float | None = None,
) -> str:
    """Analyze videos with a trained network; returns the scorer name (as DeepLabCut does).

    When a video fails, the others are still analysed and a summary lists them all; then
    VideosFailed is raised (the command exits with 1), carrying each finished video's .h5 and
    each failed video's reason.

    Parameters
    ----------
    config: path or URL of the project's config.yaml.
    videos: video files, folders of videos, or s3:// prefixes; they need not be in config.yaml.
    videotype: only videos with this extension in folders (e.g. .mp4); default: all video types.
    shuffle: which shuffle's model to use; "best": the winner of the last compare_models (its snapshot too).
    trainingsetindex: which TrainingFraction of config.yaml the model was trained with.
    gputouse: GPU index for the single-process path (Ray assigns GPUs to workers itself).
    save_as_csv: also write the table as CSV.
    destfolder: where outputs go (default: beside each video); local or s3://.
    batch_size: frames per batch (default: config.yaml's batch_size).
    cropping: [x1, x2, y1, y2] to analyze only this box (default: config's x1..y2 when
        cropping is true); coordinates come back in full-frame pixels.
    dynamic: (enabled, threshold, margin): follow the animal with a box once a bodypart's
        likelihood reaches threshold, growing it by margin pixels; works with batching.
    snapshot_index: which snapshot (default: config's snapshotindex; -1 = best, else last).
    overwrite: analyze again videos that already have outputs.
    output_format: any of h5, csv, parquet (h5 is always written).
    num_workers: model replicas on Ray (default: one per GPU, else one per 4 CPUs, at least one);
        0 runs in this process without Ray.
    address: Ray cluster to use (default: RAY_ADDRESS, else a local Ray instance).
    shard_frames: frames per shard (default: chosen from the video length and worker count).
    precision: inference precision: auto, fp32, bf16, fp16 or int8 (CPU, ONNX Runtime, calibrated
        on the first video's frames). "auto" on a CPU measures bf16 and int8 against fp32 on sample
        frames and takes the fastest that moves no keypoint by more than 1 px (kept per snapshot).
    gpus_per_worker: GPUs each Ray worker holds (0.5 puts two replicas on a GPU); default: 1 when
        the cluster has GPUs, else CPU workers. Set it on clusters that add GPU nodes on demand,
        whose GPUs are not there yet when the job starts.
    """
    cfg = load_config(config)
    model_ref = resolve_model(cfg, shuffle, trainingsetindex, snapshot_index)
    bodyparts = model_ref.model_config.bodyparts
    settings = AnalysisSettings(
        batch_size=int(batch_size or cfg.get("batch_size", 8)),
        crop=Crop.parse(cropping, "cropping") if cropping else cfg.analysis_crop(),
        dynamic=DynamicCropping.parse(dynamic),
        precision=precision,
    )
    formats = _formats(output_format, save_as_csv)
    resources = worker_resources(num_workers, gputouse, address, gpus_per_worker)
    video_list = collect_videos(videos, videotype)
    if not video_list:
        raise PoseringError(f"no videos found in {videos} (videotype {videotype!r})")
    settings = _concrete_precision(settings, model_ref, video_list, resources, destfolder, overwrite)
    jobs = [_plan(video, model_ref, settings, destfolder, overwrite, resources, shard_frames)
            for video in video_list]
    shards = [s for job in jobs if job.status == "pending" for s in job.shards]
    total = sum(len(s) for s in shards)
    log.info("analyzing %d videos (%d frames) with %s", sum(j.status == "pending" for j in jobs), total,
             model_ref.scorer)
    report = run_shards(model_ref, settings, shards, resources, total) if shards else RunReport()
    for job in jobs:
        if job.status == "pending":
            _assemble(job, report, model_ref, bodyparts, settings, formats, resources, cfg)
    print_summary(jobs, report)
    videos = PerVideo("analyze_videos", [job.video for job in jobs])
    for job in jobs:
        if job.status == "failed":
            videos.fail(job.video, job.error)
    videos.finish({job.video: job.outputs["h5"] for job in jobs if job.status in ("done", "skipped")},
                  returned=model_ref.scorer)
    return model_ref.scorer


def _concrete_precision(settings: AnalysisSettings, model_ref: ModelRef, videos: list[str],
                        resources: Resources, destfolder: str | None, overwrite: bool) -> AnalysisSettings:
    """Resolve precision="auto" once for the run (see analyze/precision.py); for "int8", make
    the graph calibrated on the first video if there is none for this snapshot yet."""
    if settings.precision not in ("auto", "int8"):
        return settings
    one_machine = _on_this_machine(resources)
    if settings.precision == "int8" and not one_machine:
        raise PoseringError("precision='int8' needs every worker on this machine (its graph, calibrated on the "
                            "first video, is kept in this machine's cache folder); use precision='auto' or "
                            "'bf16' on a cluster of several nodes")
    todo = [v for v in videos
            if overwrite or not storage.exists(output_locations(v, model_ref.scorer, destfolder)["h5"])]
    for video in todo:
        try:
            if settings.precision == "int8":
                ensure_int8_graph(model_ref, video)
                return settings
            choice = choose_precision(model_ref, video, resources.device, int8=one_machine)
        except PoseringError:
            continue  # an unreadable video is reported when it is planned
        return dataclasses.replace(settings, precision=choice)
    return settings


def _on_this_machine(resources: Resources) -> bool:
    """Whether every worker runs on this machine: in this process, or on a one-node Ray."""
    if resources.num_workers == 0:
        return True
    import ray

    return ray.is_initialized() and len([n for n in ray.nodes() if n.get("Alive")]) == 1


def _formats(output_format, save_as_csv: bool) -> set[str]:
    formats = {output_format} if isinstance(output_format, str) else set(output_format or ())
    unknown = formats - set(OUTPUT_FORMATS)
    if unknown:
        raise PoseringError(f"output_format {sorted(unknown)}: choose from {list(OUTPUT_FORMATS)}")
    return formats | {"h5"} | ({"csv"} if save_as_csv else set())


def _plan(video: str, model_ref: ModelRef, settings: AnalysisSettings, destfolder: str | None,
          overwrite: bool, resources: Resources, shard_frames: int | None) -> VideoJob:
    outputs = output_locations(video, model_ref.scorer, destfolder)
    folder = destfolder or storage.parent(video)
    parts_dir = storage.join(folder, PARTS_DIR,
                             f"{storage.stem(video)}{model_ref.scorer}-{settings.key(model_ref.scorer)}")
    job = VideoJob(video, None, outputs, parts_dir)
    if storage.exists(outputs["h5"]) and not overwrite:
        job.status = "skipped"
        return job
    try:
        job.info = probe(video)
    except PoseringError as exc:
        job.status, job.error = "failed", str(exc)
        return job
    if overwrite:
        storage.remove(parts_dir, recursive=True)
    size = shard_frames or _shard_size(job.info.frame_count, settings, resources)
    job.shards = plan_shards(video, job.info.frame_count, parts_dir, size)
    return job


def _shard_size(nframes: int, settings: AnalysisSettings, resources: Resources) -> int:
    workers = max(1, resources.num_workers)
    if settings.dynamic.enabled:
        # Lockstep groups of batch_size shards per worker; each shard starts with one full frame.
        return max(100, math.ceil(nframes / (settings.batch_size * workers)))
    return int(min(1000, max(64, math.ceil(nframes / (4 * workers)))))


def _assemble(job: VideoJob, report: RunReport, model_ref: ModelRef, bodyparts: list[str],
              settings: AnalysisSettings, formats: set[str], resources: Resources, cfg) -> None:
    if job.video in report.failures:
        job.status, job.error = "failed", "; ".join(report.failures[job.video])
        return
    try:
        poses, job.skipped = read_parts(job.parts_dir, job.info.frame_count)
    except PoseringError as exc:
        job.status, job.error = "failed", str(exc)
        return
    table = poses_table(poses, model_ref.scorer, bodyparts)
    metadata = _metadata(job, model_ref, settings, resources, report, cfg)
    stop = time.time()
    dlc_metadata = dlc_analysis_metadata(model_ref.scorer, model_ref.model_config.data, metadata["video"],
                                         settings.batch_size, model_ref.iteration, model_ref.fraction,
                                         stop - report.seconds, stop)
    write_analysis(table, job.outputs, formats, metadata, dlc_metadata)
    storage.remove_with_empty_parent(job.parts_dir)
    job.status = "done"


def _metadata(job, model_ref: ModelRef, settings: AnalysisSettings, resources: Resources,
              report: RunReport, cfg) -> dict:
    config_hash = hashlib.sha1(storage.read_bytes(cfg.location) +
                               model_ref.model_config.text.encode("utf-8")).hexdigest()
    info = job.info
    return {
        "scorer": model_ref.scorer,
        "model": {"net_type": model_ref.net_type, "config": model_ref.config_file,
                  "snapshot": model_ref.snapshot.location, "shuffle": model_ref.shuffle,
                  "training_fraction": model_ref.fraction, "iteration": model_ref.iteration},
        "config_hash": config_hash,
        "video": {"path": job.video, "fps": info.fps, "nframes": info.frame_count,
                  "metadata_nframes": info.metadata_frame_count, "width": info.width, "height": info.height,
                  "analysed_frames": analysed_frames(job),
                  "undecodable_frames": [[first, after] for first, after in job.skipped]},
        "settings": settings.describe(),
        "coordinates": "full-frame pixels",
        "run": {"workers": resources.num_workers, "nodes": len(report.nodes) or 1,
                "worker_peak_rss_mb": round(report.worker_peak_rss_mb, 1) or None,
                "worker_rss_mb": _rss_summary(report.worker_rss_mb.get(job.video)),
                "device": resources.device, "frames": report.frames,
                "seconds": round(report.seconds, 3),
                "frames_per_second": round(report.frames / report.seconds, 3) if report.seconds else None,
                "this_video": _video_units(report, job.video)},
        "posering_version": __version__,
        "date": dt.datetime.now().isoformat(timespec="seconds"),
    }


def _video_units(report: RunReport, video: str) -> dict:
    """What this run did for one video: its work units (frames, node, when, attempts)."""
    units = sorted((u for u in report.units if u["video"] == video), key=lambda u: u["started"])
    return {"frames": sum(u["frames"] for u in units),
            "worker_seconds": round(sum(u["finished"] - u["started"] for u in units), 3),
            "nodes": sorted({u["node"] for u in units}),
            "retries": sum(u["attempts"] - 1 for u in units),
            "units": [{"first_frame": u["first_frame"], "frames": u["frames"],
                       "node": u["node"], "node_ip": u["node_ip"], "started": round(u["started"], 3),
                       "finished": round(u["finished"], 3), "attempts": u["attempts"]} for u in units]}


def _rss_summary(samples: list[float] | None) -> dict | None:
    """A worker's resident memory after this video's first and last work unit, and the most."""
    if not samples:
        return None
    return {"after_first_unit": round(samples[0], 1), "after_last_unit": round(samples[-1], 1),
            "largest": round(max(samples), 1), "units": len(samples)}


