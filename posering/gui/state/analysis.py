"""The Analyze view's run, in plain Python: which videos, and the API calls for each of them.

Each video gets its own calls (analyze, then optionally filter, plot and draw), run in order in
one child process: every video has its own progress bars, and Ray (started by the first call)
serves them all. A folder or an ``s3://`` prefix is expanded to its videos first, the way
``analyze_videos`` itself would.
"""

from __future__ import annotations

from dataclasses import dataclass

from posering import storage
from posering.errors import PoseringError
from posering.gui.state.runs import Call
from posering.project.videos import collect_videos

FILTERS = ("median", "arima", "spline")


@dataclass
class AnalysisOptions:
    shuffle: int = 1
    trainingsetindex: int = 0
    save_as_csv: bool = False
    dynamic: bool = False
    dynamic_threshold: float = 0.5
    dynamic_margin: int = 10
    batch_size: int | None = None
    num_workers: int | None = None  # None: Ray chooses; 0: in the run's own process
    precision: str = "auto"
    filter: bool = False
    filtertype: str = "median"
    windowlength: int = 5
    plot: bool = True
    labeled_video: bool = False
    draw_skeleton: bool = False
    trailpoints: int = 0
    pcutoff: float | None = None  # plots and labeled videos: draw points above this (default: config's)


def expand(entries: list[str]) -> list[str]:
    """Video files, and the videos in folders (or s3:// prefixes), without repeats."""
    if not entries:
        raise PoseringError("choose at least one video (or type a folder of videos)")
    videos = collect_videos(entries)
    if not videos:
        raise PoseringError(f"no videos found in {', '.join(entries)}")
    return list(dict.fromkeys(videos))


def analysis_calls(config: str, videos: list[str], options: AnalysisOptions) -> list[Call]:
    """The calls of one run: per video, analyze and then the chosen outputs."""
    o = options
    model = {"config": config, "shuffle": o.shuffle, "trainingsetindex": o.trainingsetindex}
    drawing = {"pcutoff": float(o.pcutoff)} if o.pcutoff is not None else {}
    analyze = {**model, "save_as_csv": o.save_as_csv, "precision": o.precision,
               "dynamic": [o.dynamic, float(o.dynamic_threshold), int(o.dynamic_margin)]}
    if o.batch_size:
        analyze["batch_size"] = int(o.batch_size)
    if o.num_workers is not None:
        analyze["num_workers"] = int(o.num_workers)
    calls = []
    for video in videos:
        name = storage.name(video)
        calls.append(Call(f"{name}: analyze", "analyze_videos", {**analyze, "videos": [video]}))
        if o.filter:
            calls.append(Call(f"{name}: filter", "filterpredictions",
                              {**model, "video": [video], "filtertype": o.filtertype,
                               "windowlength": int(o.windowlength)}))
        if o.plot:
            calls.append(Call(f"{name}: plot trajectories", "plot_trajectories",
                              {**model, **drawing, "videos": [video], "filtered": o.filter}))
        if o.labeled_video:
            calls.append(Call(f"{name}: labeled video", "create_labeled_video",
                              {**model, **drawing, "videos": [video], "filtered": o.filter,
                               "draw_skeleton": o.draw_skeleton, "trailpoints": int(o.trailpoints)}))
    return calls


@dataclass
class VideoResults:
    """What a run made for one video: trajectory plots and the labeled video."""

    video: str
    plots: list[str]
    labeled_video: str | None


def collect_results(calls: list[Call], results: list) -> list[VideoResults]:
    """Per video of the run, the plots and labeled video its calls returned."""
    found: dict[str, VideoResults] = {}
    for call, result in zip(calls, results):
        video = (call.kwargs.get("videos") or call.kwargs.get("video") or [None])[0]
        if video is None:
            continue
        entry = found.setdefault(video, VideoResults(video, [], None))
        if not isinstance(result, dict):
            continue
        if call.step == "plot_trajectories":
            for plots in result.values():
                if isinstance(plots, dict):
                    entry.plots += [str(p) for p in plots.values()]
        elif call.step == "create_labeled_video":
            for made in result.values():
                entry.labeled_video = str(made)
    return list(found.values())
