"""Shuffles for the tests of training and evaluation, made by create_training_dataset itself.

Also a tiny network trained once per test session (``trained_demo_project``), copied for every
test that evaluates it. Used by tests/train and tests/evaluate.
"""

from __future__ import annotations

from posering import labels
from posering.model import save_model_config
from posering.project import ProjectPaths, load_config


def make_shuffle(config_path, net_type: str = "resnet_18", shuffle: int = 1, train=None, test=None,
                 **overrides) -> dict:
    """create_training_dataset for one shuffle, then the model config's settings changed.

    With ``train``/``test`` the split record is rewritten with those rows (at the project's first
    TrainingFraction, so the model folder keeps its name); ``overrides`` are dotted keys of the
    model config, e.g. ``**{"train_settings.batch_size": 2}``.
    """
    from posering.dataset.create_training_dataset import create_training_dataset
    from posering.dataset.split import read_split, write_split
    from posering.model import load_model_config

    create_training_dataset(str(config_path), Shuffles=[shuffle], net_type=net_type)
    cfg = load_config(str(config_path))
    paths = ProjectPaths(cfg)
    fraction = cfg.training_fractions[0]
    if train is not None:
        split = read_split(cfg, fraction, shuffle)
        relpaths = labels.image_relpaths(labels.read_labels(paths.dataset_collected_data()))
        split.train_indices, split.test_indices = list(train), list(test or [])
        split.train_images = [relpaths[i] for i in split.train_indices]
        split.test_images = [relpaths[i] for i in split.test_indices]
        write_split(cfg, split)
    config_file = paths.model_config_file(fraction, shuffle)
    model_cfg = load_model_config(config_file)
    for dotted, value in overrides.items():
        node = model_cfg
        *parents, last = dotted.split(".")
        for key in parents:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        node[last] = value
    save_model_config(model_cfg, config_file)
    return model_cfg


# -- one tiny trained model per test session, copied for each test that needs it ------------------
TINY_NET = "mobilenet_v4_small"
TINY_TRAIN = [0, 10]
TINY_TEST = [2, 12]
TINY_EPOCHS = 50  # one optimizer step per epoch: 2 training frames, batch 2
TINY_SETTINGS = {
    # No augmentation: the test checks that the network fits its training frames.
    "data.train": {"affine": None, "crop_sampling": None, "normalize_images": True},
    "posering.weight_init": "none",
    # The learning rate decays to nothing by the last epoch, so the weights (and BatchNorm's
    # running statistics) have settled when the tests look at them: at a constant rate the
    # training-frame error still jumped by pixels from one epoch to the next, and where it stood
    # at the end depended on the CPU's kernels (issue 19: the same seed failed on Intel CPUs).
    "runner.optimizer.params.lr": 2e-3,
    "runner.scheduler": {"type": "CosineAnnealingLR", "params": {"T_max": TINY_EPOCHS}},
    "runner.eval_interval": 10,
    "runner.key_metric": "test.rmse",
    "runner.key_metric_asc": False,
    "train_settings.batch_size": 2,
    "train_settings.display_iters": 10,
}
_TRAINED: dict[str, str] = {}


def trained_demo_project(tmp_path_factory) -> str:
    """A demo project with a tiny network trained TINY_EPOCHS steps; trained once per session.

    Snapshots every 25 epochs (snapshot-025, snapshot-050) and the best by test RMSE.
    """
    import shutil

    from posering.demo.run import make_demo_project
    from posering.train.train_network import train_network

    if "demo" not in _TRAINED:
        folder = tmp_path_factory.mktemp("trained-demo")
        config = make_demo_project(str(folder / "demo"), nframes=120, nlabeled=20)
        make_shuffle(config, TINY_NET, train=TINY_TRAIN, test=TINY_TEST, **TINY_SETTINGS)
        train_network(config, maxiters=TINY_EPOCHS, save_epochs=25, progress=False, precision="fp32")
        _TRAINED["demo"] = config
    source = load_config(_TRAINED["demo"]).project_path
    target = tmp_path_factory.mktemp("demo-copy") / "project"
    shutil.copytree(source, target)
    return str(target / "config.yaml")
