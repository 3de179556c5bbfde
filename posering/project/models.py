"""Which trained model a step uses: shuffle + training fraction + snapshot -> files and scorer."""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from posering import storage

from posering.errors import ModelError
from posering.formats.model_config import ModelConfig, read_model_config
from posering.formats.snapshots import Snapshot, list_snapshots, select_snapshot
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


def resolve_model(config: ProjectConfig, shuffle: int | str = 1, trainingsetindex: int = 0,
                  snapshot_index: int | str | None = None, iteration: int | None = None) -> ModelRef:
    """The model of ``shuffle`` at ``TrainingFraction[trainingsetindex]`` and its snapshot.

    ``snapshot_index`` defaults to config's ``snapshotindex`` (-1: best if any, else last).
    ``shuffle="best"``: the winner of the last ``compare_models`` (its shuffle, training fraction
    and snapshot, from ``model-comparison/best.yaml``) unless ``snapshot_index`` names another.
    """
    if isinstance(shuffle, str) and not shuffle.strip().isdigit():
        return _comparison_winner(config, shuffle, snapshot_index, iteration)
    shuffle = int(shuffle)
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


def _comparison_winner(config: ProjectConfig, shuffle: str, snapshot_index, iteration) -> ModelRef:
    location = ProjectPaths(config).comparison_winner
    if shuffle.strip().lower() != "best":
        raise ModelError(f"shuffle {shuffle!r}: give a shuffle number, or \"best\" for the winner of compare_models")
    if not storage.exists(location):
        raise ModelError(f"{location}: no model comparison has picked a best shuffle yet; run "
                         "`posering compare_models` first, or name a shuffle number")
    winner = yaml.safe_load(storage.read_text(location)) or {}
    try:
        number, index = int(winner["shuffle"]), int(winner.get("trainingsetindex", 0))
    except (KeyError, TypeError, ValueError):
        raise ModelError(f"{location}: no shuffle number in it; run `posering compare_models` again") from None
    if snapshot_index is None and winner.get("snapshot"):
        ref = resolve_model(config, number, index, -1, iteration)
        train_dir = storage.parent(ref.snapshot.location)
        chosen = [s for s in list_snapshots(train_dir) if storage.name(s.location) == winner["snapshot"]]
        if not chosen:
            raise ModelError(f"{location}: the winning snapshot {winner['snapshot']} is no longer in {train_dir}; "
                             "run `posering compare_models` again or name a snapshot_index")
        scorer = scorer_name(ref.net_type, config.task, config.date, number, chosen[0].uid)
        return ModelRef(ref.folder, ref.config_file, ref.model_config, chosen[0], ref.net_type, scorer, ref.fraction, number,
                        ref.iteration)
    return resolve_model(config, number, index, snapshot_index, iteration)
