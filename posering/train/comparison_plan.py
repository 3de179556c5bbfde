"""What ``compare_models`` compares: one shuffle per trial, all on the same train/test frames.

Every trial is a shuffle of the project, so its model is an ordinary model folder a person can
open, evaluate, analyze with, or train further. Models to compare come as

* ``net_types``: new shuffles by ``create_training_model_comparison`` (one split, one shuffle per
  network), or
* ``shuffles``: existing shuffles, e.g. made by that step earlier;

and with a ``search_space``, ``num_samples`` settings are drawn for each model, each draw a new
shuffle with the model's split and its pytorch_config.yaml plus the drawn values. Draws happen
here, when the comparison is planned (random search, seeded), not inside Tune: the drawn values
are then written down in the plan and in each shuffle's config before anything trains.

A search space maps a setting to a value (fixed), a list (one of them), or one of Ray Tune's
distributions by name: ``{"loguniform": [1e-4, 1e-2]}``, ``{"uniform": [a, b]}``,
``{"randint": [a, b]}``, ``{"choice": [...]}``. Settings are dotted pytorch_config.yaml keys
(``runner.optimizer.params.lr``) or these short names:

* ``lr``: ``runner.optimizer.params.lr`` (the schedule's later rates keep their ratio to it);
* ``batch_size``: ``train_settings.batch_size``;
* ``crop_size``: the side of ``data.train.crop_sampling`` (width and height);
* ``augmentation``: a strength multiplying DeepLabCut's augmentation (rotation, the scaling
  range's distance from 1, Gaussian noise); 0 turns them off.

The plan (request, trials, drawn values) is saved as ``model-comparison/plan-<key>.yaml``; the
same request later finds it and reuses its shuffles, which is what makes a comparison
resumable.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field

import numpy as np
import yaml

from posering import labels, storage
from posering.errors import ConfigError, DatasetError
from posering.formats.model_config import load_model_config, save_model_config
from posering.project import ProjectPaths, load_config
from posering.train.shuffle_run import set_dotted

log = logging.getLogger("posering.train")

SHORT_NAMES = {
    "lr": ["runner.optimizer.params.lr"],
    "batch_size": ["train_settings.batch_size"],
    "crop_size": ["data.train.crop_sampling.width", "data.train.crop_sampling.height"],
}
DISTRIBUTIONS = ("uniform", "quniform", "loguniform", "qloguniform", "randint", "qrandint", "lograndint",
                 "choice", "randn")


@dataclass
class Trial:
    shuffle: int
    net_type: str
    base_shuffle: int
    params: dict = field(default_factory=dict)   # the drawn settings, by the names the user gave


def request_key(request: dict) -> str:
    """A short, stable name for a comparison request (its plan file and Tune experiment)."""
    return hashlib.sha1(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()[:10]


def sample_space(search_space: dict | None, num_samples: int, seed: int) -> list[dict]:
    """``num_samples`` draws from the space (one empty draw without a space)."""
    if not search_space:
        return [{}]
    import ray.tune

    rng = np.random.default_rng(seed)
    domains = {}
    for name, spec in search_space.items():
        if isinstance(spec, list):
            domains[name] = ray.tune.choice(spec)
        elif isinstance(spec, dict):
            if len(spec) != 1 or next(iter(spec)) not in DISTRIBUTIONS:
                raise ConfigError(f"search_space.{name}: {spec!r} is not a value, a list or one of "
                                  f"{{{', '.join(DISTRIBUTIONS)}: [arguments]}}")
            kind, arguments = next(iter(spec.items()))
            domains[name] = getattr(ray.tune, kind)(*(arguments if isinstance(arguments, list) else [arguments]))
        else:
            domains[name] = spec
    draws = []
    for _ in range(max(1, int(num_samples))):
        draw = {}
        for name, domain in domains.items():
            value = domain.sample(random_state=rng) if hasattr(domain, "sample") else domain
            draw[name] = value.item() if isinstance(value, np.generic) else value
        draws.append(draw)
    return draws


def apply_setting(model_cfg: dict, name: str, value) -> None:
    """Write one drawn setting into a pytorch_config.yaml dict."""
    if name == "augmentation":
        _scale_augmentation(model_cfg, float(value))
        return
    if name == "lr":
        runner = model_cfg.setdefault("runner", {})
        params = runner.setdefault("optimizer", {}).setdefault("params", {})
        ratio = float(value) / float(params.get("lr", 5e-4))
        scheduler = (runner.get("scheduler") or {}).get("params") or {}
        if scheduler.get("lr_list"):
            scheduler["lr_list"] = [[float(v) * ratio for v in (lrs if isinstance(lrs, list) else [lrs])]
                                    for lrs in scheduler["lr_list"]]
    for dotted in SHORT_NAMES.get(name, [name]):
        set_dotted(model_cfg, dotted, value)


def _scale_augmentation(model_cfg: dict, strength: float) -> None:
    train = (model_cfg.setdefault("data", {})).setdefault("train", {})
    affine = train.get("affine")
    if isinstance(affine, dict):
        if strength <= 0:
            train["affine"] = None
        else:
            affine["rotation"] = float(affine.get("rotation", 30)) * strength
            low, high = (affine.get("scaling") or [0.5, 1.25])
            affine["scaling"] = [1 - (1 - float(low)) * strength, 1 + (float(high) - 1) * strength]
    noise = train.get("gaussian_noise")
    if noise not in (None, False):
        train["gaussian_noise"] = (12.75 if noise is True else float(noise)) * strength if strength > 0 else False
    if strength <= 0:
        train["motion_blur"] = False


def comparison_settings(metric: str) -> dict:
    """Model-config settings every trial gets: its best snapshot is chosen by the compared metric."""
    key = metric.replace("_", ".", 1)
    return {"runner.key_metric": key, "runner.key_metric_asc": metric == "test_mAP"}


def plan_comparison(config: str, request: dict) -> tuple[str, list[Trial]]:
    """The trials of a request: read from its plan file, or made (shuffles written) and saved."""
    cfg = load_config(config)
    paths = ProjectPaths(cfg)
    key = request_key(request)
    plan_file = paths.comparison_plan(key)
    if storage.exists(plan_file):
        data = yaml.safe_load(storage.read_text(plan_file)) or {}
        trials = [Trial(**t) for t in data.get("trials") or []]
        log.info("model comparison %s: the plan of an earlier call (%s), trials %s", key, plan_file,
                 [t.shuffle for t in trials])
        return key, trials
    trainindex = int(request["trainingsetindex"])
    if request.get("net_types"):
        from posering.dataset.create_training_model_comparison import create_training_model_comparison

        made = create_training_model_comparison(config, trainindex=trainindex, num_shuffles=1,
                                                net_types=list(request["net_types"]))
        bases = [(int(m["shuffle"]), str(m["net_type"])) for m in made]
    elif request.get("shuffles"):
        from posering.formats.model_config import read_model_config

        fraction = cfg.training_fractions[trainindex]
        bases = [(int(s), read_model_config(paths.model_config_file(fraction, int(s))).net_type) for s in request["shuffles"]]
    else:
        raise ConfigError("compare_models: name the models to compare: net_types (new shuffles on one split) "
                          "or shuffles (existing ones)")
    draws = sample_space(request.get("search_space"), request.get("num_samples", 1), int(request.get("seed", 0)))
    trials = []
    for base, net_type in bases:
        for i, draw in enumerate(draws):
            shuffle = base if i == 0 and not draw else _copy_shuffle(cfg, trainindex, base, net_type)
            trials.append(Trial(shuffle, net_type, base, draw))
    fraction = cfg.training_fractions[trainindex]
    for trial in trials:
        config_file = paths.model_config_file(fraction, trial.shuffle)
        model_cfg = load_model_config(config_file)
        for name, value in {**comparison_settings(request["metric"]), **trial.params}.items():
            apply_setting(model_cfg, name, value)
        save_model_config(model_cfg, config_file)
    storage.write_text(plan_file, yaml.safe_dump({"request": request, "trials": [asdict(t) for t in trials]},
                                                 sort_keys=False))
    log.info("model comparison %s: %d trials, shuffles %s (plan %s)", key, len(trials),
             [t.shuffle for t in trials], plan_file)
    return key, trials


def _copy_shuffle(cfg, trainindex: int, base: int, net_type: str) -> int:
    """A new shuffle with ``base``'s frames, net type and pytorch_config.yaml; its number."""
    from posering.dataset.collect import collect_labels
    from posering.dataset.create_training_dataset import write_dataset
    from posering.formats.splits import Split, read_metadata, read_split

    paths = ProjectPaths(cfg)
    fraction = cfg.training_fractions[trainindex]
    source = read_split(cfg, fraction, base)
    table = collect_labels(cfg)
    rows = {image: i for i, image in enumerate(labels.image_relpaths(table))}
    missing = [image for image in source.train_images + source.test_images if image not in rows]
    if missing:
        raise DatasetError(f"shuffle {base}: its frame {missing[0]} is no longer labeled; recreate the shuffle")
    number = 1 + max((int(e.get("index", 0)) for e in read_metadata(cfg)["shuffles"].values()), default=0)
    split = Split(number, source.train_fraction, [rows[i] for i in source.train_images],
                  [rows[i] for i in source.test_images], net_type, source.augmenter_type or "default",
                  list(source.train_images), list(source.test_images))
    write_dataset(cfg, table, [split])
    model_cfg = load_model_config(paths.model_config_file(fraction, base))
    target = paths.model_config_file(fraction, number)
    set_dotted(model_cfg, "metadata.pose_config_path", target)
    save_model_config(model_cfg, target)
    return number
