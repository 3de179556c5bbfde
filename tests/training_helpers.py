"""Build a shuffle's training files (what create_training_dataset writes) for the tests.

Real files only: the combined CollectedData, the split record and the model config of the model
folder, written with posering's own writers. Used by tests/train and tests/evaluate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import yaml

from posering import labels, storage
from posering.model import make_model_config, save_model_config
from posering.project import ProjectPaths, load_config


def combined_labels(config_path) -> pd.DataFrame:
    cfg = load_config(config_path)
    paths = ProjectPaths(cfg)
    tables = []
    for video in cfg.video_sets:
        location = paths.collected_data(storage.stem(video))
        if storage.exists(location):
            tables.append(labels.read_labels(location))
    if not tables:  # the example projects list placeholder videos: take every labeled folder
        for folder in storage.listdir(paths.labeled_data_dir):
            location = paths.collected_data(folder)
            if storage.exists(location):
                tables.append(labels.read_labels(location))
    table = pd.concat(tables).sort_index()
    return labels.conform_bodyparts(table, cfg.bodyparts, "test")


def make_shuffle(config_path, net_type: str = "resnet_18", shuffle: int = 1, train=None, test=None,
                 **overrides) -> dict:
    """Write the training dataset, split and model config of one shuffle; returns the model config."""
    cfg = load_config(str(config_path))
    paths = ProjectPaths(cfg)
    table = combined_labels(config_path)
    labels.write_labels(table, paths.dataset_collected_data())
    fraction = cfg.training_fractions[0]
    n = len(table)
    if train is None:
        order = np.random.default_rng(shuffle).permutation(n)
        cut = int(n * fraction)
        train, test = sorted(order[:cut].tolist()), sorted(order[cut:].tolist())
    record = {"train_fraction": fraction, "shuffle": shuffle, "net_type": net_type,
              "images": labels.image_relpaths(table), "train_indices": [int(i) for i in train],
              "test_indices": [int(i) for i in (test or [])]}
    storage.write_text(paths.split_file(fraction, shuffle), yaml.safe_dump(record, sort_keys=False))
    config_file = paths.model_config_file(fraction, shuffle)
    model_cfg = make_model_config(net_type, cfg.bodyparts, cfg.project_path, config_file, **overrides)
    save_model_config(model_cfg, config_file)
    return model_cfg


# -- one tiny trained model per test session, copied for each test that needs it ------------------
TINY_NET = "mobilenet_v4_small"
TINY_TRAIN = [0, 10]
TINY_TEST = [2, 12]
TINY_SETTINGS = {
    # No augmentation: the test checks that the network fits its training frames.
    "data.train": {"affine": None, "crop_sampling": None, "normalize_images": True},
    "posering.weight_init": "none",
    "runner.optimizer.params.lr": 2e-3,
    "runner.eval_interval": 10,
    "runner.key_metric": "test.rmse",
    "runner.key_metric_asc": False,
    "train_settings.batch_size": 2,
    "train_settings.display_iters": 10,
}
_TRAINED: dict[str, str] = {}


def trained_demo_project(tmp_path_factory, iterations: int = 40) -> str:
    """A demo project with a tiny network trained `iterations` steps; trained once per session."""
    import shutil

    from posering.demo.run import make_demo_project
    from posering.train.train_network import train_network

    if "demo" not in _TRAINED:
        folder = tmp_path_factory.mktemp("trained-demo")
        config = make_demo_project(str(folder / "demo"), nframes=120, nlabeled=20)
        make_shuffle(config, TINY_NET, train=TINY_TRAIN, test=TINY_TEST, **TINY_SETTINGS)
        train_network(config, maxiters=iterations, save_epochs=20, progress=False, precision="fp32")
        _TRAINED["demo"] = config
    source = load_config(_TRAINED["demo"]).project_path
    target = tmp_path_factory.mktemp("demo-copy") / "project"
    shutil.copytree(source, target)
    return str(target / "config.yaml")
