"""Train the resnet_50 that the analysis benchmarks use: one that really tracks the mouse.

    python -m benchmarks.tracking_resnet50 --workdir /data/bench --epochs 110

The openfield project of ../shared/data, DeepLabCut 3's own split of shuffle 1 (110 training /
6 test frames), resnet_50 (timm resnet50_gn, output stride 16) from random initialisation,
DeepLabCut 3's defaults except 320x320 crops (the mouse is ~60-80 px long; half the pixels of
448x448 per step) and the learning-rate steps moved to epochs 150/180. posering's default CPU
path (bfloat16 autocast, channels_last) trains it; a test-set evaluation every 10 epochs is
logged. The model folder is written under --workdir/openfield-r50.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
from pathlib import Path

from benchmarks._shared import _writable_copy, shared_data


def prepare(workdir: Path) -> str:
    import posering as pr
    from posering.model import load_model_config, save_model_config
    from posering.project import ProjectPaths, load_config

    root = workdir / "openfield-r50"
    if root.exists():
        shutil.rmtree(root)
    _writable_copy(shared_data() / "openfield-Pranav-2018-10-30", root)
    config = str(root / "config.yaml")
    split_file = (shared_data() / "dlc3-openfield-resnet50/training-datasets/iteration-0/"
                  "UnaugmentedDataSet_openfieldOct30/split-shuffle1.json")
    split = json.loads(split_file.read_text())
    pr.create_training_dataset(config, net_type="resnet_50", trainIndices=[split["train_indices"]],
                               testIndices=[split["test_indices"]])
    model_config_file = ProjectPaths(load_config(config)).model_config_file(0.95, 1)
    model_config = load_model_config(model_config_file)
    model_config["data"]["train"]["crop_sampling"].update(width=320, height=320)
    model_config["runner"]["scheduler"]["params"]["milestones"] = [150, 180]
    model_config["runner"]["eval_interval"] = 10
    model_config["runner"]["snapshots"]["save_epochs"] = 10
    model_config.setdefault("posering", {})["weight_init"] = "none"
    save_model_config(model_config, model_config_file)
    return config


def main(argv: list[str] | None = None) -> str:
    import posering as pr

    parser = argparse.ArgumentParser(prog="python -m benchmarks.tracking_resnet50", description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--epochs", type=int, default=110)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    config = prepare(Path(args.workdir))
    pr.train_network(config, epochs=args.epochs, progress=False)
    return config


if __name__ == "__main__":
    main()
