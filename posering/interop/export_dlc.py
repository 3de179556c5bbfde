"""export_dlc: a posering model as a DeepLabCut 3 project that DeepLabCut itself analyzes with.

posering already writes DeepLabCut 3's layout (``pytorch_config.yaml`` + ``snapshot-*.pt`` in
``dlc-models-pytorch/iteration-N/<shuffle>/train``), so exporting means writing a clean copy:

    <destination>/
      config.yaml                                   project_path set to the destination
      training-datasets/iteration-N/UnaugmentedDataSet_<Task><date>/metadata.yaml   (engine: pytorch)
      dlc-models-pytorch/iteration-N/<Task><date>-trainset<pct>shuffle<k>/
        train/pytorch_config.yaml                   DeepLabCut's keys only, paths rewritten
        train/snapshot-<EEE>.pt                     {"metadata": {"epoch"}, "model": state_dict}
        test/pose_cfg.yaml

Only nets DeepLabCut 3's PyTorch engine has can be exported (resnet_50, resnet_101).
"""

from __future__ import annotations

import logging

import yaml

from posering import storage
from posering.errors import ModelError
from posering.formats.model_config import read_model_config
from posering.formats.snapshots import read_weights, snapshot_name, write_snapshot
from posering.formats.splits import add_shuffle, write_metadata
from posering.project import ProjectConfig, ProjectPaths, load_config
from posering.project.models import resolve_model
from posering.project.paths import CONFIG_FILE, exported_model_folder

log = logging.getLogger("posering.interop")
DLC_NET_TYPES = ("resnet_50", "resnet_101")


def export_dlc(config: str, shuffle: int = 1, trainingsetindex: int = 0, snapshot_index: int | None = None,
               destination: str | None = None, overwrite: bool = False) -> str:
    """Write a posering model as a DeepLabCut 3 project folder; returns its config.yaml.

    Parameters
    ----------
    config: the posering project's config.yaml.
    shuffle: the shuffle whose model to export.
    trainingsetindex: which TrainingFraction the model was trained with.
    snapshot_index: which snapshot (default: config's snapshotindex; -1 = best, else last).
    destination: folder for the DeepLabCut project (default: exported-models-dlc/<shuffle>-snapshot-<uid>
        inside the project).
    overwrite: replace an existing export at the destination.
    """
    cfg = load_config(config)
    model = resolve_model(cfg, shuffle, trainingsetindex, snapshot_index)
    if model.net_type not in DLC_NET_TYPES:
        raise ModelError(f"{model.config_file}: net_type {model.net_type!r} has no DeepLabCut 3 (PyTorch) "
                         f"counterpart; export works for {', '.join(DLC_NET_TYPES)}")
    paths = ProjectPaths(cfg)
    shuffle_name = paths.shuffle_name(model.fraction, shuffle)
    destination = storage.normalize(destination or exported_model_folder(
        cfg.project_path, shuffle_name, model.snapshot.uid))
    target_config = storage.join(destination, CONFIG_FILE)
    if storage.exists(target_config) and not overwrite:
        raise ModelError(f"{destination}: an export is already there; pass overwrite=True to replace it")

    exported = ProjectConfig(dict(cfg.data), target_config)
    exported["iteration"] = model.iteration
    exported["TrainingFraction"] = [model.fraction]
    exported["snapshotindex"] = -1
    exported["engine"] = "pytorch"
    exported.save()
    out = ProjectPaths(exported)
    _write_metadata(out, shuffle_name, model.fraction, shuffle)
    model_config = _dlc_model_config(model.config_file, exported.project_path,
                                     out.model_config_file(model.fraction, shuffle))
    storage.write_text(out.model_config_file(model.fraction, shuffle),
                       yaml.safe_dump(model_config, sort_keys=False))
    storage.write_text(out.pose_cfg_file(model.fraction, shuffle), yaml.safe_dump(_pose_cfg(model_config, exported)))
    write_snapshot(storage.join(out.train_dir(model.fraction, shuffle), snapshot_name(model.snapshot.epoch)),
                   _dlc_snapshot(model.snapshot.location, model.snapshot.epoch))
    log.info("exported %s to %s", model.scorer, destination)
    return target_config


def _write_metadata(paths: ProjectPaths, shuffle_name: str, fraction: float, shuffle: int) -> None:
    data: dict = {"shuffles": {}}
    add_shuffle(data, shuffle_name, fraction, shuffle, split=1)
    write_metadata(paths.config, data)


def _dlc_model_config(source: str, project_path: str, config_path: str) -> dict:
    model_config = read_model_config(source)
    model_config.spec  # refuses anything posering could not have trained
    data = model_config.data
    data.pop("posering", None)  # posering's own settings; DeepLabCut does not know them
    data.setdefault("metadata", {})
    data["metadata"]["project_path"] = project_path
    data["metadata"]["pose_config_path"] = config_path
    data["resume_training_from"] = None
    return data


def _pose_cfg(model_config: dict, cfg: ProjectConfig) -> dict:
    bodyparts = list(model_config["metadata"]["bodyparts"])
    return {"dataset": cfg.project_path, "num_joints": len(bodyparts),
            "all_joints": [[i] for i in range(len(bodyparts))], "all_joints_names": bodyparts,
            "net_type": model_config["net_type"], "global_scale": 1.0, "scoremap_dir": "test"}


def _dlc_snapshot(location: str, epoch: int) -> dict:
    state, metadata = read_weights(location)
    return {"metadata": {"epoch": int(epoch), "metrics": dict(metadata.get("metrics") or {})},
            "model": {k: v.contiguous() for k, v in state.items()}}
