"""create_training_dataset: the labels as one training set, split into shuffles, with model folders.

What it writes, with DeepLabCut 3's names (``ProjectPaths`` knows them all)::

    training-datasets/iteration-<N>/UnaugmentedDataSet_<Task><date>/
        CollectedData_<scorer>.h5 / .csv          every labeled frame of the project, one table
        Documentation_data-<Task>_<pct>shuffle<k>.yaml    the split of each shuffle, readable
        Documentation_data-<Task>_<pct>shuffle<k>.pickle  the same split as DeepLabCut records it
        <Task>_<scorer><pct>shuffle<k>.mat                DeepLabCut's training file of the shuffle
        metadata.yaml                              the shuffles, as DeepLabCut 3 lists them
    dlc-models-pytorch/iteration-<N>/<Task><date>-trainset<pct>shuffle<k>/
        train/pytorch_config.yaml                  every training setting with its default
        train/posering.yaml                        posering's own settings (DeepLabCut refuses them
                                                   inside pytorch_config.yaml)
        test/pose_cfg.yaml                         DeepLabCut's test config

Everything is checked before anything is written: bad labels, a bad net type or a split that
leaves no test frame change nothing on disk. A shuffle that already holds a trained snapshot is
never overwritten.
"""

from __future__ import annotations

import logging
import sys

import pandas as pd
import yaml

from posering import storage
from posering.dataset.collect import collect_labels, image_shape
from posering.dataset.split_rules import given_split, random_split
from posering.errors import DatasetError
from posering.formats import labels
from posering.formats.splits import (Split, add_shuffle, read_metadata, read_split, write_dlc_split, write_metadata,
                                     write_split)
from posering.project import ProjectPaths, load_config
from posering.project.config import ProjectConfig

log = logging.getLogger("posering.dataset")

# Augmenters the PyTorch engine accepts; DeepLabCut 3 trains all three with its albumentations
# pipeline (the train transforms of pytorch_config.yaml). TensorFlow-only ones are refused.
AUGMENTERS = ("default", "albumentations", "imgaug")


def create_training_dataset(config: str, num_shuffles: int = 1, Shuffles: list[int] | None = None,
                            trainIndices: list[list[int]] | None = None,
                            testIndices: list[list[int]] | None = None, net_type: str | None = None,
                            augmenter_type: str | None = None, userfeedback: bool = False) -> list[dict]:
    """Create the training dataset, its train/test splits (shuffles) and their model folders.

    Returns one entry per shuffle: its number, train fraction, frame counts and model folder.

    Parameters
    ----------
    config: path or URL of the project's config.yaml.
    num_shuffles: how many shuffles (splits) per TrainingFraction, numbered 1..num_shuffles.
    Shuffles: the shuffle numbers to create instead, e.g. [4, 5].
    trainIndices: one list of row numbers per shuffle: the training frames, exactly (e.g. a split
        taken from a DeepLabCut project). Needs testIndices; the fraction follows from the sizes.
    testIndices: one list of row numbers per shuffle: the test frames (with trainIndices).
    net_type: the network, e.g. resnet_50 or resnet_101, or auto: the backbone, crop, target,
        batch size and learning-rate schedule chosen from the labeled frames and this machine,
        each written with its reason (default: config's default_net_type).
    augmenter_type: default, albumentations or imgaug (default: config's default_augmenter).
    userfeedback: ask on the terminal before replacing an existing shuffle (never asks when stdin
        is not a terminal).
    """
    cfg = load_config(config)
    net_type = net_type or str(cfg["default_net_type"])
    augmenter_type = check_augmenter(augmenter_type or cfg.get("default_augmenter") or "default")
    table = collect_labels(cfg)
    shuffles = _shuffle_numbers(num_shuffles, Shuffles, trainIndices)
    splits = _make_splits(cfg, table, shuffles, trainIndices, testIndices)
    for split in splits:
        split.net_type, split.augmenter_type = net_type, augmenter_type
    return write_dataset(cfg, table, splits, userfeedback)


def check_augmenter(augmenter_type: str) -> str:
    if augmenter_type not in AUGMENTERS:
        raise DatasetError(f"augmenter_type {augmenter_type!r}: the PyTorch engine trains with "
                           f"{', '.join(AUGMENTERS)} (all use the same albumentations pipeline)")
    return augmenter_type


def _shuffle_numbers(num_shuffles: int, Shuffles, trainIndices) -> list[int]:
    if Shuffles is None:
        count = len(trainIndices) if trainIndices is not None else int(num_shuffles)
        Shuffles = list(range(1, count + 1))
    if isinstance(Shuffles, int):
        Shuffles = [Shuffles]
    numbers = [int(s) for s in Shuffles]
    if not numbers or any(s < 1 for s in numbers) or len(set(numbers)) != len(numbers):
        raise DatasetError(f"Shuffles={Shuffles}: give distinct shuffle numbers of 1 or more")
    return numbers


def _make_splits(cfg: ProjectConfig, table: pd.DataFrame, shuffles: list[int],
                 trainIndices, testIndices) -> list[Split]:
    nrows = len(table)
    images = labels.image_relpaths(table)
    splits = []
    if trainIndices is None and testIndices is None:
        for fraction in cfg.training_fractions:
            for shuffle in shuffles:
                train, test = random_split(nrows, fraction, shuffle, f"{cfg.location}: TrainingFraction")
                splits.append(Split(shuffle, round(fraction, 2), train, test))
    else:
        if trainIndices is None or testIndices is None:
            raise DatasetError("give both trainIndices and testIndices (one list per shuffle)")
        if not (len(trainIndices) == len(testIndices) == len(shuffles)):
            raise DatasetError(f"trainIndices ({len(trainIndices)} lists), testIndices ({len(testIndices)}) "
                               f"and Shuffles ({len(shuffles)}) must have one entry per shuffle")
        for shuffle, train, test in zip(shuffles, trainIndices, testIndices):
            fraction, train, test = given_split(train, test, nrows, shuffle)
            splits.append(Split(shuffle, fraction, train, test))
    for split in splits:
        split.train_images = [images[i] for i in split.train_indices]
        split.test_images = [images[i] for i in split.test_indices]
    return splits


def write_dataset(cfg: ProjectConfig, table: pd.DataFrame, splits: list[Split],
                  userfeedback: bool = False) -> list[dict]:
    """Write the combined labels, the splits, metadata.yaml and the model folders of ``splits``."""
    paths = ProjectPaths(cfg)
    shapes = _image_shapes(cfg, table, splits)
    # Build every file's content first: a net type posering cannot train fails before any write.
    model_files = {(s.train_fraction, s.shuffle): _model_files(cfg, s, table, shapes) for s in splits}
    splits = [s for s in splits if _may_write(cfg, s, userfeedback)]
    metadata = read_metadata(cfg)
    _warn_if_rows_moved(cfg, table, metadata, splits)
    labels.write_labels(table, paths.dataset_collected_data())
    results = []
    for split in splits:
        write_split(cfg, split)
        write_dlc_split(cfg, split, table, shapes)
        split_id = _split_id(cfg, metadata, split)
        add_shuffle(metadata, paths.shuffle_name(split.train_fraction, split.shuffle),
                    split.train_fraction, split.shuffle, split_id)
        for location, text in model_files[(split.train_fraction, split.shuffle)].items():
            storage.makedirs(storage.parent(location))
            storage.write_text(location, text)
        folder = paths.model_folder(split.train_fraction, split.shuffle)
        log.info("shuffle %d: %d train / %d test frames (%s, %s) in %s", split.shuffle,
                 len(split.train_indices), len(split.test_indices), split.net_type,
                 split.augmenter_type, folder)
        results.append({"shuffle": split.shuffle, "train_fraction": split.train_fraction,
                        "train_frames": len(split.train_indices), "test_frames": len(split.test_indices),
                        "split": split_id, "net_type": split.net_type,
                        "augmenter_type": split.augmenter_type, "model_folder": folder})
    write_metadata(cfg, metadata)
    _remember_fractions(cfg, [s.train_fraction for s in splits])
    return results


def _image_shapes(cfg: ProjectConfig, table: pd.DataFrame, splits: list[Split]) -> dict[str, tuple]:
    """(bands, height, width) of every training image of ``splits``, from the PNG headers."""
    relpaths = labels.image_relpaths(table)
    wanted = sorted({relpaths[i] for split in splits for i in split.train_indices})
    return {rel: image_shape(storage.join(cfg.project_path, *rel.split("/"))) for rel in wanted}


def _warn_if_rows_moved(cfg: ProjectConfig, table: pd.DataFrame, metadata: dict, splits: list[Split]) -> None:
    """Older shuffles index the previous table: say so when the labeled frames changed."""
    location = ProjectPaths(cfg).dataset_collected_data()
    if not storage.exists(location) or list(labels.read_labels(location).index) == list(table.index):
        return
    redone = {(s.train_fraction, s.shuffle) for s in splits}
    older = [e["index"] for e in metadata["shuffles"].values()
             if (float(e.get("train_fraction", 0)), int(e.get("index", 0))) not in redone]
    if older:
        log.warning("the labeled frames changed since shuffles %s were made: their train/test_indices "
                    "refer to the previous table (their train/test_images still name their frames); "
                    "recreate them, or run merge_datasets to start a new iteration", sorted(set(older)))


def _model_files(cfg: ProjectConfig, split: Split, table: pd.DataFrame, shapes: dict[str, tuple]) -> dict[str, str]:
    """{location: YAML text} of the shuffle's train/pytorch_config.yaml, train/posering.yaml and
    test/pose_cfg.yaml. ``net_type: auto`` is resolved here (``split.net_type`` becomes the
    chosen backbone)."""
    from posering.formats.model_config import model_config_files
    from posering.model.defaults import make_model_config

    paths = ProjectPaths(cfg)
    model_config = paths.model_config_file(split.train_fraction, split.shuffle)
    if split.net_type == "auto":
        from posering.model.auto import auto_model_config, this_device

        config = auto_model_config(cfg.bodyparts, cfg.project_path, model_config,
                                   _split_stats(cfg, table, shapes, split), this_device(), len(split.train_indices))
        split.net_type = config["net_type"]
        log.info("shuffle %d: net_type auto -> %s; settings chosen from the data:\n  %s", split.shuffle,
                 split.net_type, "\n  ".join(e["reason"] for e in config["posering"]["auto"]))
    else:
        # Every training setting with its default, as the model package defines them; an unknown
        # or unsupported net type is refused here, before anything is written.
        config = make_model_config(split.net_type, cfg.bodyparts, cfg.project_path, model_config)
    pose_cfg = {
        "dataset": cfg.project_path,
        "num_joints": len(cfg.bodyparts),
        "all_joints": [[i] for i in range(len(cfg.bodyparts))],
        "all_joints_names": cfg.bodyparts,
        "net_type": split.net_type,
        "dataset_type": "multi-animal-imgaug",  # what DeepLabCut 3 writes for PyTorch shuffles
        "global_scale": 1.0,
        "scoremap_dir": "test",
    }
    files = {paths.pose_cfg_file(split.train_fraction, split.shuffle): _yaml(pose_cfg)}
    files.update(model_config_files(config, model_config))
    return files


def _split_stats(cfg: ProjectConfig, table: pd.DataFrame, shapes: dict[str, tuple], split: Split):
    """The statistics ``net_type: auto`` chooses from: the training frames' labels and sizes."""
    from posering.model.auto import dataset_stats
    from posering.train.augment import symmetric_pairs

    relpaths = labels.image_relpaths(table)
    rows = table.iloc[list(split.train_indices)]
    sizes = [(shapes[relpaths[i]][2], shapes[relpaths[i]][1]) for i in split.train_indices]
    return dataset_stats(labels.points(rows, cfg.bodyparts), sizes, len(symmetric_pairs(cfg.bodyparts)))


def _yaml(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=100)


def _may_write(cfg: ProjectConfig, split: Split, userfeedback: bool) -> bool:
    """False to skip a shuffle the user wants kept; refuses to replace a trained one."""
    paths = ProjectPaths(cfg)
    train_dir = paths.train_dir(split.train_fraction, split.shuffle)
    snapshots = [n for n in storage.listdir(train_dir) if n.startswith("snapshot") and n.endswith(".pt")]
    if snapshots:
        raise DatasetError(f"{train_dir}: shuffle {split.shuffle} already holds a trained model "
                           f"({snapshots[0]}); pick another shuffle number (Shuffles=[...]) or delete "
                           "that model folder first")
    exists = storage.exists(paths.split_file(split.train_fraction, split.shuffle)) or storage.exists(
        paths.model_folder(split.train_fraction, split.shuffle))
    if not (exists and userfeedback and sys.stdin and sys.stdin.isatty()):
        return True
    answer = input(f"Shuffle {split.shuffle} (trainset {int(100 * split.train_fraction)}%) exists; "
                   "replace its split and configs? [yes/no] ")
    return answer.strip().lower() in ("y", "yes")


def _split_id(cfg: ProjectConfig, metadata: dict, split: Split) -> int:
    """The metadata ``split`` number: shared with any other shuffle that has the same frames."""
    used = set()
    for entry in metadata.get("shuffles", {}).values():
        itself = (int(entry.get("index", -1)), float(entry.get("train_fraction", -1)))
        if itself == (split.shuffle, split.train_fraction):
            continue
        used.add(int(entry.get("split", 0)))
        try:
            other = read_split(cfg, float(entry["train_fraction"]), int(entry["index"]))
        except (DatasetError, KeyError, TypeError, ValueError):
            continue
        if split.same_frames(other):
            return int(entry["split"])
    return max(used, default=0) + 1


def _remember_fractions(cfg: ProjectConfig, fractions: list[float]) -> None:
    """A split given by indices may have a fraction config lacks: add it, so trainingsetindex finds it."""
    known = cfg.training_fractions
    new = [f for f in dict.fromkeys(fractions) if not any(abs(f - k) < 1e-9 for k in known)]
    if new:
        cfg["TrainingFraction"] = [*cfg["TrainingFraction"], *new]
        cfg.save()
        log.info("added TrainingFraction %s to %s", new, cfg.location)
