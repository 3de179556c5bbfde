"""The one front door of the steps that work video by video.

Every step after ``analyze_videos`` (filterpredictions, analyzeskeleton, plot_trajectories,
create_labeled_video, extract_outlier_frames) takes DeepLabCut's leading parameters: the config
and shuffle name the model, the model names the scorer, the scorer names each video's analysis
files. :func:`analysis_step` gives a step those parameters (signature, help text and their
resolution into one :class:`~posering.post.analysis_files.AnalysisTarget` per video), so the
step itself starts from an :class:`AnalysedVideos`.

:class:`PerVideo` is the rest of the door, for these steps and for ``extract_frames``: skip the
videos whose output is there, run the work of the others (as Ray tasks when there are several,
see :func:`posering.ray_utils.fan_out`), collect each video's result, and raise
:class:`~posering.errors.VideosFailed` at the end when any failed, after the others finished.
"""

from __future__ import annotations

import functools
import inspect
import logging
from typing import Any, Callable

from tqdm.auto import tqdm

from posering import storage
from posering.errors import VideosFailed
from posering.ray_utils import Failure, fan_out

log = logging.getLogger("posering")


class PerVideo:
    """One step's run over videos: which were skipped (done before), which failed, and why."""

    def __init__(self, step: str, videos: list[str]):
        self.step = step
        self.videos = list(videos)
        self.skipped: dict[str, Any] = {}
        self.failed: dict[str, Failure] = {}

    def skip_done(self, outputs: dict[str, str], overwrite: bool = False) -> list[str]:
        """The videos still to do: those whose output (``outputs[video]``) is not there yet, or
        all of them with ``overwrite``. A skipped video's result is its output."""
        todo = []
        for video, output in outputs.items():
            if storage.exists(output) and not overwrite:
                log.info("%s: %s is there from an earlier run; pass overwrite=True to redo it",
                         storage.name(video), output)
                self.skipped[video] = output
            else:
                todo.append(video)
        return todo

    def fail(self, video: str, reason: str) -> None:
        """Record a video that failed outside :meth:`each` (it is reported by :meth:`finish`)."""
        self.failed[video] = Failure(reason)

    def each(self, work: Callable, jobs: dict[str, tuple], on_ray: bool | None = None,
             on_done: Callable[[str, Any], None] | None = None) -> dict[str, Any]:
        """``work(*jobs[video])`` per video; the results of the videos that succeeded.

        ``on_ray``: None (the default policy) runs several videos as Ray tasks and a single one
        here, without Ray's start-up cost; True or False decide. A video that fails is recorded
        (see :meth:`finish`) and the others carry on.
        """
        videos = list(jobs)
        results: dict[str, Any] = {}
        on_ray = len(videos) > 1 if on_ray is None else on_ray
        with tqdm(total=len(videos), unit="video", desc=self.step, disable=len(videos) < 2) as bar:
            def done(i: int, outcome: Any) -> None:
                bar.update(1)
                if isinstance(outcome, Failure):
                    log.error("%s: %s: %s", self.step, storage.name(videos[i]), outcome.message)
                    self.failed[videos[i]] = outcome
                    return
                results[videos[i]] = outcome
                if on_done is not None:
                    on_done(videos[i], outcome)

            fan_out(work, [jobs[video] for video in videos], on_ray, on_done=done, keep_failures=True)
        return {video: results[video] for video in videos if video in results}

    def finish(self, results: dict[str, Any], returned: Any = None) -> dict[str, Any]:
        """Per video, in the order given: its result (or what an earlier run left). Raises
        :class:`VideosFailed`, carrying these results (and ``returned``, what the step returns
        when all went well, if not these results), when any video failed."""
        finished = {**self.skipped, **results}
        merged = {video: finished[video] for video in self.videos if video in finished}
        if self.failed:
            first = next(iter(self.failed.values())).exception
            raise VideosFailed(self.step, merged, {v: f.message for v, f in self.failed.items()},
                               total=len(self.videos), returned=returned) from first
        return merged


class AnalysedVideos(PerVideo):
    """A step's videos with the project config and where each video's analysis files are."""

    def __init__(self, step: str, cfg, targets: list):
        super().__init__(step, [target.video for target in targets])
        self.cfg = cfg
        self.targets = targets

    def todo(self, output: Callable, overwrite: bool = False) -> list:
        """The targets whose ``output(target)`` is not there yet (all with ``overwrite``)."""
        by_video = {target.video: target for target in self.targets}
        return [by_video[video] for video in
                self.skip_done({video: output(target) for video, target in by_video.items()}, overwrite)]


# DeepLabCut's leading parameters of every step on analysed videos, and their help text.
_SHARED = (
    ("config", inspect.Parameter.empty, "str", "path or URL of the project's config.yaml."),
    ("videos", inspect.Parameter.empty, "list[str] | str",
     "video files, folders of videos or s3:// prefixes whose analysis files to read."),
    ("videotype", "", "str", "only videos with this extension in folders (e.g. .mp4); default: all video types."),
    ("shuffle", 1, "int", "the shuffle whose model analysed the videos (names the analysis files)."),
    ("trainingsetindex", 0, "int", "which TrainingFraction of config.yaml that model was trained with."),
)


def analysis_step(videos_parameter: str = "videos") -> Callable:
    """Give a step on analysed videos DeepLabCut's leading parameters.

    The decorated function takes an :class:`AnalysedVideos` first, then its own parameters (a
    ``destfolder`` among them says where the analysis files are). The step it makes takes
    ``config, <videos_parameter>, videotype, shuffle, trainingsetindex`` in front of those, as
    DeepLabCut's does (filterpredictions calls the second ``video``), with their help text at
    the top of the docstring's Parameters section.
    """
    def wrap(body: Callable) -> Callable:
        own = list(inspect.signature(body).parameters.values())[1:]
        shared = [inspect.Parameter(videos_parameter if name == "videos" else name,
                                    inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=annotation)
                  for name, default, annotation, _ in _SHARED]
        signature = inspect.signature(body).replace(parameters=shared + own)

        @functools.wraps(body)
        def step(*args, **kwargs):
            from posering.post.analysis_files import analysis_targets

            arguments = signature.bind(*args, **kwargs)
            arguments.apply_defaults()
            given = arguments.arguments
            leading = [given.pop(parameter.name) for parameter in shared]
            cfg, targets = analysis_targets(*leading, destfolder=given.get("destfolder"))
            return body(AnalysedVideos(body.__name__, cfg, targets), **given)

        step.__signature__ = signature
        step.__doc__ = _with_shared_help(inspect.getdoc(body) or "", videos_parameter)
        return step

    return wrap


def _with_shared_help(doc: str, videos_parameter: str) -> str:
    """``doc`` with the shared parameters' lines at the top of its Parameters section."""
    marker = "Parameters\n----------\n"
    if marker not in doc:
        return doc
    head, tail = doc.split(marker, 1)
    lines = "".join(f"{videos_parameter if name == 'videos' else name}: {text}\n" for name, _, _, text in _SHARED)
    return head + marker + lines + tail
