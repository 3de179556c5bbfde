"""Which trained model a step uses: shuffle + training fraction + snapshot -> files and scorer."""

from __future__ import annotations

from dataclasses import dataclass

from posering.errors import ModelError
from posering.formats.model_config import ModelConfig, read_model_config
from posering.formats.snapshots import Snapshot, select_snapshot
from posering.project.config import ProjectConfig
from posering.project.paths import ProjectPaths, scorer_name


@dataclass(frozen=True)
class ModelRef:
    """A trained model of a project, located and named."""

    folder: str
    config_file: str
    model_config: ModelConfig
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
    model_config = read_model_config(config_file)
    net_type = model_config.net_type
    index = config.get("snapshotindex", -1) if snapshot_index is None else snapshot_index
    if index == "all":
        index = -1
    snapshot = select_snapshot(paths.train_dir(fraction, shuffle, iteration), index)
    scorer = scorer_name(net_type, config.task, config.date, shuffle, snapshot.uid)
    return ModelRef(folder, config_file, model_config, snapshot, net_type, scorer, fraction, shuffle, iteration)
