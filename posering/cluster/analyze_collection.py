"""The analyze job: every video under files, folders or s3:// prefixes -> poses, then optional
filtering, plots and labeled videos, and a run report beside the outputs.

It is ``analyze_videos`` with a few more steps, and takes ``analyze_videos``' own parameters:
its signature is built from that function's (see the bottom of this module), so the job's
command line (``posering jobs run analyze``, ``posering submit analyze``, ``jobs/analyze.py``)
is generated from the same source as ``posering analyze_videos`` and cannot drift from it.
Rerunning it resumes: videos with outputs are not redone, nor are finished shards.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import logging
import os
import time
import uuid

from posering import storage
from posering.analyze.analyze_videos import analyze_videos
from posering.formats.poses import output_locations
from posering.errors import PoseringError, VideosFailed

log = logging.getLogger("posering.jobs")


def analyze_collection(
    config: str,
    videos: list[str],
    filter_predictions: bool = False,
    filtertype: str = "median",
    plot_trajectories: bool = False,
    create_labeled_video: bool = False,
    report_folder: str | None = None,
    watch_scale_down: float = 0.0,
    **analyze_options,
) -> str:
    """Analyze a collection of videos (on the cluster the job runs on) and report the run.

    Parameters
    ----------
    filter_predictions: then filter the poses (filterpredictions) and use the filtered ones below.
    filtertype: filter for filter_predictions: median, arima or spline.
    plot_trajectories: then plot each video's trajectories (plot-poses/ beside the outputs).
    create_labeled_video: then render each video with its poses drawn on it.
    report_folder: where the run report goes (default: destfolder, else the first video's folder);
        it lands in posering-runs/<UTC start time>-<id>/ there.
    watch_scale_down: after the work, keep recording the cluster's nodes for up to this many
        seconds, until workers the autoscaler added are gone (shown in the report).
    """
    from posering.cluster.nodes import NodeSampler
    from posering.cluster.report import video_rows, write_report
    from posering.project import load_config
    from posering.project.models import resolve_model
    from posering.project.paths import run_report_files
    from posering.project.videos import collect_videos
    from posering.ray_utils import ensure_ray

    options = {name: p.default for name, p in _ANALYZE.parameters.items() if p.default is not p.empty}
    options.update(analyze_options)
    cfg = load_config(config)
    scorer = resolve_model(cfg, options["shuffle"], options["trainingsetindex"], options["snapshot_index"]).scorer
    video_list = collect_videos(videos, options["videotype"])
    if not video_list:
        raise PoseringError(f"no videos found in {videos} (videotype {options['videotype']!r})")
    destfolder = options["destfolder"]
    done_before = {v for v in video_list if storage.exists(output_locations(v, scorer, destfolder)["h5"])}
    log.info("job: %d videos, %d already analysed", len(video_list), len(done_before))
    use_ray = options["num_workers"] != 0
    sampler = NodeSampler(ensure_ray(options["address"])).start() if use_ray else None
    started = time.time()
    run_name = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    files = run_report_files(report_folder or destfolder or storage.parent(video_list[0]), run_name)
    try:
        try:
            analyze_videos(config, videos, **analyze_options)
        except VideosFailed as exc:  # the others finished: post-process them, report, then fail
            log.error("%s", exc)
        done = [v for v in video_list if storage.exists(output_locations(v, scorer, destfolder)["h5"])]
        _post_process(config, done, options, filter_predictions, filtertype, plot_trajectories,
                      create_labeled_video)
        if sampler is not None and sampler.wait_for_scale_down(watch_scale_down):
            log.info("the autoscaler removed the idle worker nodes")
    finally:
        samples = sampler.stop() if sampler is not None else []
        rows = video_rows(video_list, scorer, destfolder, done_before)
        header = {"job": _job_id(), "config": config, "videos": ", ".join(map(str, videos)),
                  "scorer": scorer, "destfolder": destfolder or "beside each video",
                  "started (UTC)": dt.datetime.fromtimestamp(started, dt.timezone.utc).isoformat(timespec="seconds")}
        write_report(files, rows, samples, started, time.time(), header)
        log.info("run report: %s", files["report"])
    failed = [row.video for row in rows if row.status == "failed"]
    if failed:
        raise PoseringError(f"{len(failed)} of {len(rows)} videos failed ({', '.join(map(storage.name, failed))}); "
                            f"the table above says why; rerun the job to retry them")
    return files["report"]


def _post_process(config: str, videos: list[str], options: dict, filter_predictions: bool, filtertype: str,
                  plot: bool, labeled: bool) -> None:
    if not videos:
        return
    common = {"shuffle": options["shuffle"], "trainingsetindex": options["trainingsetindex"],
              "destfolder": options["destfolder"]}
    if filter_predictions:
        from posering.post.filterpredictions import filterpredictions

        log.info("filtering %d videos (%s)", len(videos), filtertype)
        filterpredictions(config, videos, filtertype=filtertype, save_as_csv=options["save_as_csv"], **common)
    if plot:
        from posering.viz.plot_trajectories import plot_trajectories

        log.info("plotting trajectories of %d videos", len(videos))
        plot_trajectories(config, videos, filtered=filter_predictions, **common)
    if labeled:
        from posering.viz.create_labeled_video import create_labeled_video

        log.info("rendering %d labeled videos", len(videos))
        create_labeled_video(config, videos, filtered=filter_predictions, **common)


def _job_id() -> str:
    """The Ray job's submission id when this runs as a Ray job, else 'local'."""
    try:
        metadata = json.loads(os.environ.get("RAY_JOB_CONFIG_JSON_ENV_VAR", "{}")).get("metadata", {})
    except ValueError:
        metadata = {}
    return metadata.get("job_submission_id", "local")


# -- one signature: analyze_videos' parameters, then the job's own ------------------------------------
_ANALYZE = inspect.signature(analyze_videos)


def _merged_signature() -> inspect.Signature:
    own = [p for p in inspect.signature(analyze_collection).parameters.values()
           if p.name not in _ANALYZE.parameters and p.kind is not p.VAR_KEYWORD]
    return _ANALYZE.replace(parameters=[*_ANALYZE.parameters.values(), *own])


def _merged_doc() -> str:
    summary, _, own = inspect.getdoc(analyze_collection).partition("Parameters\n----------\n")
    _, _, theirs = inspect.getdoc(analyze_videos).partition("Parameters\n----------\n")
    return f"{summary}Parameters\n----------\n{theirs.rstrip()}\n{own}"


analyze_collection.__signature__ = _merged_signature()
analyze_collection.__doc__ = _merged_doc()
