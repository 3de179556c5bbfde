"""create_training_model_comparison: several networks on the same train/test frames.

For each of ``num_shuffles`` random splits, one shuffle per (net type, augmenter) pair, all with
that split, so their test errors compare like with like. New shuffles are numbered after the
largest shuffle the dataset already has, so earlier shuffles are kept.
"""

from __future__ import annotations

import logging

from posering.dataset.collect import collect_labels
from posering.dataset.create_training_dataset import _make_splits, check_augmenter, write_dataset
from posering.dataset.metadata import read_metadata
from posering.dataset.split import Split, random_split
from posering.errors import DatasetError
from posering.project import load_config

log = logging.getLogger("posering.dataset")


def create_training_model_comparison(config: str, trainindex: int = 0, num_shuffles: int = 1,
                                     net_types: list[str] | None = None,
                                     augmenter_types: list[str] | None = None,
                                     userfeedback: bool = False) -> list[dict]:
    """Create shuffles that share train/test splits, one per (net type, augmenter) pair.

    Returns one entry per new shuffle: its number, split number, net type and model folder.

    Parameters
    ----------
    config: path or URL of the project's config.yaml.
    trainindex: which of config's TrainingFraction values to use (0 = the first).
    num_shuffles: how many different splits; each gets one shuffle per (net, augmenter) pair.
    net_types: the networks to compare, e.g. resnet_50 resnet_101 (default: config's default_net_type).
    augmenter_types: the augmenters to compare (default: config's default_augmenter).
    userfeedback: ask on the terminal before replacing an existing shuffle.
    """
    cfg = load_config(config)
    fractions = cfg.training_fractions
    if not 0 <= int(trainindex) < len(fractions):
        raise DatasetError(f"{cfg.location}: trainindex {trainindex} does not name one of TrainingFraction "
                           f"{fractions} (0 to {len(fractions) - 1})")
    fraction = round(fractions[int(trainindex)], 2)
    net_types = list(net_types or [str(cfg["default_net_type"])])
    augmenters = [check_augmenter(a) for a in (augmenter_types or [cfg.get("default_augmenter") or "default"])]
    table = collect_labels(cfg)
    first = 1 + max((int(e.get("index", 0)) for e in read_metadata(cfg)["shuffles"].values()), default=0)
    splits: list[Split] = []
    number = first
    for _ in range(int(num_shuffles)):
        # Seeded by the group's first shuffle number, as create_training_dataset seeds a shuffle.
        train, test = random_split(len(table), fraction, number, f"{cfg.location}: TrainingFraction")
        for net_type in net_types:
            for augmenter in augmenters:
                template = _make_splits(cfg, table, [number], [train], [test])[0]
                template.train_fraction = fraction
                template.net_type, template.augmenter_type = net_type, augmenter
                splits.append(template)
                number += 1
    results = write_dataset(cfg, table, splits, userfeedback)
    log.info("model comparison: shuffles %s", [r["shuffle"] for r in results])
    return results
