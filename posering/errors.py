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


class TrainingError(PoseringError):
    """Training stopped for good (e.g. workers failed more often than allowed) after saving what it had."""
