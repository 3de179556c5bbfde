"""Which trained model a step uses: shuffle + training fraction + snapshot -> files and scorer."""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from posering import storage
from posering.errors import ModelError
from posering.project.config import ProjectConfig
from posering.project.paths import ProjectPaths, scorer_name
from posering.formats.snapshots import Snapshot, select_snapshot


@dataclass(frozen=True)
class ModelRef:
    """A trained model of a project, located and named."""

    folder: str
    config_file: str
    snapshot: Snapshot
    net_type: str
    scorer: str
    fraction: float
    shuffle: int
    iteration: int


def resolve_model(config: ProjectConfig, shuffle: int = 1, trainingsetindex: int = 0,
                  snapshot_index: int | str | None = None, iteration: int | None = None) -> ModelRef:
    """The model of ``shuffle`` at ``TrainingFraction[trainingsetindex]`` and its snapshot.

    ``snapshot_index`` defaults to config's ``snapshotindex`` (-1: best if any, else last).
    """
    fractions = config.training_fractions
    if not 0 <= trainingsetindex < len(fractions):
        raise ModelError(f"{config.location}: trainingsetindex {trainingsetindex} is out of range: "
                         f"TrainingFraction has {len(fractions)} entries")
    fraction = fractions[trainingsetindex]
    iteration = config.iteration if iteration is None else iteration
    paths = ProjectPaths(config)
    folder = paths.model_folder(fraction, shuffle, iteration)
    config_file = paths.model_config_file(fraction, shuffle, iteration)
    if not storage.exists(config_file):
        raise ModelError(f"{config_file}: no model config here; create the shuffle with "
                         "`posering create_training_dataset` and train it with `posering train_network`")
    net_type = read_net_type(config_file)
    index = config.get("snapshotindex", -1) if snapshot_index is None else snapshot_index
    if index == "all":
        index = -1
    snapshot = select_snapshot(paths.train_dir(fraction, shuffle, iteration), index)
    scorer = scorer_name(net_type, config.task, config.date, shuffle, snapshot.uid)
    return ModelRef(folder, config_file, snapshot, net_type, scorer, fraction, shuffle, iteration)


def read_net_type(model_config_file: str) -> str:
    try:
        data = yaml.safe_load(storage.read_text(model_config_file)) or {}
    except yaml.YAMLError as exc:
        raise ModelError(f"{model_config_file}: not valid YAML ({exc})") from None
    net_type = data.get("net_type")
    if not net_type:
        raise ModelError(f"{model_config_file}: no 'net_type' key")
    return str(net_type)
