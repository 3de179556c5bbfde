"""The model config: DeepLabCut 3's `pytorch_config.yaml` layout, read and written by posering.

A DeepLabCut 3 single-animal model folder is a posering model folder: posering writes the same
keys with the same defaults (`posering.model.defaults.make_model_config`), reads the file once
into a `ModelConfig` that the steps carry (`read_model_config`), and builds only what its model
needs from it (`ModelConfig.spec`, see model/spec.py).

Settings DeepLabCut has no key for (the weights a new model starts from, inference precision)
are the `posering:` block of the config dict in memory, and on disk a file of their own,
`train/posering.yaml`: DeepLabCut 3 validates pytorch_config.yaml against its schema and refuses
a file with keys it does not know. Configs written by earlier posering versions, with the block
inside pytorch_config.yaml, are still read; saving them moves the block out.

What posering cannot run is refused by `parse_model_config` (spec.py) with one line naming the
file and the reason.

Note for readers of the runner section: PyYAML reads `1e-05` (no decimal point) as a string, as
DeepLabCut writes it in `lr_list`; whoever consumes those numbers must convert them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import yaml

from posering import storage
from posering.errors import ModelError
from posering.project.paths import posering_settings_file

if TYPE_CHECKING:  # the model package loads torch; reading a config must not
    from posering.model.spec import ModelSpec

SETTINGS_KEY = "posering"
AUTO_KEY = "auto"  # posering.yaml's record of the settings chosen from the data (model/auto.py)
SETTINGS_HEADER = ("# posering's own settings for the model of this folder. DeepLabCut reads pytorch_config.yaml\n"
                   "# beside this file and does not know these keys, so they are kept here.\n")

__all__ = [
    "ModelConfig", "TrainSettings", "auto_notes", "get_dotted", "load_model_config", "model_config_files", "read_model_config",
    "read_model_spec", "save_model_config", "set_dotted",
]


def set_dotted(config: dict, dotted: str, value) -> None:
    """config["a"]["b"]["c"] = value for dotted "a.b.c", creating the levels that are missing."""
    node = config
    *parents, last = dotted.split(".")
    for key in parents:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[last] = value


def get_dotted(config: dict, dotted: str, default=None):
    """config["a"]["b"]["c"] for dotted "a.b.c", or ``default`` where a level is missing."""
    node = config
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return default
        node = node[key]
    return node


def auto_notes(config: dict) -> list[str]:
    """One line per setting posering chose from the data (``net_type: auto``), with its reason,
    or saying it was changed by hand since: for pytorch_config.yaml's header and train.txt."""
    notes = []
    for entry in (config.get(SETTINGS_KEY) or {}).get(AUTO_KEY) or []:
        values = entry.get("values") or {}
        changed = [key for key, value in values.items() if get_dotted(config, key) != value]
        keys = ", ".join(values)
        if changed:
            notes.append(f"{entry.get('setting')} ({keys}): set by hand ({', '.join(changed)}); "
                         f"the automatic choice was: {entry.get('reason')}")
        else:
            notes.append(f"auto {entry.get('setting')} ({keys}): {entry.get('reason')}")
    return notes


def _auto_header(config: dict) -> str:
    notes = auto_notes(config)
    if not notes:
        return ""
    lines = ["posering chose these settings from the data (net_type: auto); change any key below and",
             "the new value is used (the reasons are kept in posering.yaml, `auto:`):", *notes]
    return "".join(f"# {line}\n" for line in lines)


# -- files -----------------------------------------------------------------------------------------------
def load_model_config(path: str) -> dict:
    """pytorch_config.yaml as a dict, with posering's block from ``posering.yaml`` beside it
    (safe_load: the files are parsed, never executed)."""
    return _with_settings(_parse_yaml(storage.read_text(str(path)), str(path)), str(path))


def _with_settings(config: dict, path: str) -> dict:
    """Add posering's own settings: ``posering.yaml`` beside the file, over a ``posering:`` key
    that configs written by earlier posering versions hold inside pytorch_config.yaml."""
    location = posering_settings_file(path)
    if storage.exists(location):
        try:
            settings = yaml.safe_load(storage.read_text(location)) or {}
        except yaml.YAMLError as err:
            raise ModelError(f"{location}: not valid YAML ({str(err).splitlines()[0]})") from None
        if not isinstance(settings, dict):
            raise ModelError(f"{location}: expected a mapping of settings, found {type(settings).__name__}")
        config[SETTINGS_KEY] = {**(config.get(SETTINGS_KEY) or {}), **settings}
    return config


def _parse_yaml(text: str, path: str) -> dict:
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ModelError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(config, dict):
        raise ModelError(f"{path}: expected a mapping of settings, found {type(config).__name__}")
    return config


def model_config_files(config: dict, path: str) -> dict[str, str]:
    """{location: YAML text}: DeepLabCut's settings for ``pytorch_config.yaml`` (keys in its order;
    DeepLabCut validates the file strictly and refuses keys it does not know) and posering's
    block for ``posering.yaml`` beside it."""
    path = str(path)
    files = {path: _auto_header(config) + yaml.safe_dump({k: v for k, v in config.items() if k != SETTINGS_KEY},
                                                         sort_keys=False)}
    if config.get(SETTINGS_KEY) is not None:
        files[posering_settings_file(path)] = SETTINGS_HEADER + yaml.safe_dump(dict(config[SETTINGS_KEY]),
                                                                               sort_keys=False)
    return files


def save_model_config(config: dict, path: str) -> None:
    """Write ``pytorch_config.yaml`` and ``posering.yaml`` atomically (see model_config_files)."""
    for location, text in model_config_files(config, path).items():
        storage.write_text(location, text)


def read_model_spec(path: str) -> ModelSpec:
    """load_model_config + parse_model_config for a pytorch_config.yaml path or URL."""
    return read_model_config(path).spec


# -- the typed object the steps carry -------------------------------------------------------------------
@dataclass(frozen=True)
class TrainSettings:
    """What a training run reads from ``train_settings`` and ``runner``, with DeepLabCut's defaults."""

    epochs: int = 200
    batch_size: int = 8
    display_iters: int = 500
    seed: int = 42
    dataloader_workers: int | None = None
    eval_interval: int = 0
    key_metric: str | None = "test.mAP"
    key_metric_asc: bool = True
    max_snapshots: int = 5
    save_epochs: int = 25
    device: str | None = None


@dataclass
class ModelConfig:
    """One model folder's ``pytorch_config.yaml``, read once and carried by the steps.

    ``data`` is the whole file as a dict (DeepLabCut's nested layout, plus posering's own block);
    ``spec`` is what posering builds from it, validated on first use (a folder that only names a
    scorer need not hold a complete model); ``text`` is the file as read, for hashing.
    """

    location: str
    data: dict
    text: str = ""
    _spec: ModelSpec | None = field(default=None, repr=False, compare=False)

    @property
    def net_type(self) -> str:
        net_type = self.data.get("net_type")
        if not net_type:
            raise ModelError(f"{self.location}: no 'net_type' key")
        return str(net_type)

    @property
    def spec(self) -> ModelSpec:
        if self._spec is None:
            from posering.model.spec import parse_model_config

            self._spec = parse_model_config(self.data, self.location)
        return self._spec

    @property
    def bodyparts(self) -> list[str]:
        return list(self.spec.bodyparts)

    @property
    def train(self) -> TrainSettings:
        settings = self.data.get("train_settings") or {}
        runner = self.data.get("runner") or {}
        snapshots = runner.get("snapshots") or {}
        defaults = TrainSettings()
        seed = settings.get("seed")
        return TrainSettings(
            epochs=int(settings.get("epochs") or defaults.epochs),
            batch_size=int(settings.get("batch_size") or defaults.batch_size),
            display_iters=int(settings.get("display_iters") or defaults.display_iters),
            seed=int(seed if seed is not None else defaults.seed),
            dataloader_workers=settings.get("dataloader_workers"),
            eval_interval=int(runner.get("eval_interval") or 0),
            key_metric=runner.get("key_metric", defaults.key_metric),
            key_metric_asc=bool(runner.get("key_metric_asc", defaults.key_metric_asc)),
            max_snapshots=int(snapshots.get("max_snapshots", defaults.max_snapshots)),
            save_epochs=int(snapshots.get("save_epochs", defaults.save_epochs)),
            device=runner.get("device") or self.data.get("device"),
        )

    def set(self, dotted: str, value) -> None:
        """Change one setting (dotted keys, e.g. ``train_settings.epochs``); ``save`` writes it."""
        set_dotted(self.data, dotted, value)
        self._spec = None

    def save(self) -> None:
        save_model_config(self.data, self.location)
        self.text = storage.read_text(self.location)


def read_model_config(path: str) -> ModelConfig:
    """The model config of a model folder (``train/pytorch_config.yaml``), read once."""
    path = str(path)
    if not storage.exists(path):
        raise ModelError(f"{path}: no model config here; create the shuffle with "
                         "`posering create_training_dataset` and train it with `posering train_network`")
    text = storage.read_text(path)
    return ModelConfig(path, _with_settings(_parse_yaml(text, path), path), text)
