"""Errors a user can act on.

Every error raised for bad input is a `PoseringError`: its message is one line that names the
file, key, frame or URL at fault and says what to do. The command line prints that line alone
(no traceback unless `--debug`). Anything else escaping is a bug in posering.
"""


class PoseringError(Exception):
    """A problem with the user's input or environment, explained in one line."""


class ConfigError(PoseringError):
    """config.yaml (or a model config file) is missing, malformed or inconsistent."""


class StorageError(PoseringError):
    """A local path or s3:// URL cannot be read or written."""


class VideoError(PoseringError):
    """A video cannot be opened or decoded."""


class LabelsError(PoseringError):
    """A labels file (CollectedData_*.h5/.csv, machinelabels) is malformed or inconsistent."""


class DatasetError(PoseringError):
    """A training dataset cannot be built from the labeled data as it stands."""


class ModelError(PoseringError):
    """A model config or snapshot cannot be used."""


class VideosFailed(PoseringError):
    """Some videos of a step failed; the others finished and kept their outputs.

    A step that works video by video raises this at the end instead of returning, so a failed
    video cannot pass for a finished one (the command line exits with 1). ``results``: per video
    that finished (now or in an earlier run), what the step returns for it; ``failures``: per
    failed video, the one-line reason; ``returned``: what the step returns when every video
    succeeds, for those that did (``analyze_videos``: the scorer; the others: ``results``).
    """

    def __init__(self, step: str, results: dict, failures: dict[str, str], total: int, returned=None):
        self.step, self.results, self.failures = step, results, failures
        self.returned = results if returned is None else returned
        reasons = "; ".join(f"{_name(video)}: {reason.removeprefix(video + ': ')}"
                            for video, reason in failures.items())
        finished = "; the others' outputs are written" if len(failures) < total else ""
        super().__init__(f"{step}: {len(failures)} of {total} videos failed ({reasons}){finished}")
        self._arguments = (step, results, failures, total, returned)

    def __reduce__(self):  # pickled with what it was made from (a step run inside a Ray task)
        return type(self), self._arguments


def _name(location: str) -> str:
    return location.rstrip("/").rsplit("/", 1)[-1]


class TrainingError(PoseringError):
    """Training stopped for good (e.g. workers failed more often than allowed) after saving what it had."""
