"""The model config: DeepLabCut 3's `pytorch_config.yaml` layout, read and written by posering.

A DeepLabCut 3 single-animal model folder is a posering model folder: posering writes the same
keys with the same defaults (`make_model_config`), and reads only what its model needs
(`parse_model_config` -> `ModelSpec`). Settings DeepLabCut has no key for live under a top-level
`posering:` block, which DeepLabCut never reads.

What posering cannot run is refused by `parse_model_config` (spec.py) with one line naming the
file and the reason.

Note for readers of the runner section: PyYAML reads `1e-05` (no decimal point) as a string, as
DeepLabCut writes it in `lr_list`; whoever consumes those numbers must convert them.
"""

from __future__ import annotations

import copy

import yaml

from posering import storage
from posering.errors import ModelError
from posering.model.backbones import backbone_entry
from posering.model.heads import default_head_config
from posering.model.spec import POSERING_DEFAULTS, ModelSpec, parse_model_config
from posering.model.targets import DEFAULT_LOCREF_STD, DEFAULT_POS_DIST_THRESH

__all__ = [
    "ModelSpec", "load_model_config", "make_model_config", "parse_model_config",
    "read_model_spec", "save_model_config",
]


def _head_section(channels: int, output_stride: int, k: int) -> dict:
    return {
        "type": "HeatmapHead",
        "weight_init": "normal",
        "predictor": {
            "type": "HeatmapPredictor",
            "apply_sigmoid": False,
            "clip_scores": True,
            "location_refinement": True,
            "locref_std": DEFAULT_LOCREF_STD,
        },
        "target_generator": {
            "type": "HeatmapGaussianGenerator",
            "num_heatmaps": k,
            "pos_dist_thresh": int(DEFAULT_POS_DIST_THRESH),
            "heatmap_mode": "KEYPOINT",
            "gradient_masking": False,
            "generate_locref": True,
            "locref_std": DEFAULT_LOCREF_STD,
        },
        "criterion": {
            "heatmap": {"type": "WeightedMSECriterion", "weight": 1.0},
            "locref": {"type": "WeightedHuberCriterion", "weight": 0.05},
        },
        "heatmap_config": default_head_config(channels, k, output_stride),
        "locref_config": default_head_config(channels, 2 * k, output_stride),
    }


def _transforms(train: bool) -> dict:
    keys = ["resize", "longest_max_size", "hflip", "affine", "random_bbox_transform",
            "crop_sampling", "hist_eq", "motion_blur", "covering", "elastic_transform",
            "grayscale", "gaussian_noise", "auto_padding", "normalize_images",
            "scale_to_unit_range", "top_down_crop", "collate"]
    section = dict.fromkeys(keys)
    section.update(hist_eq=False, motion_blur=False, normalize_images=True,
                   scale_to_unit_range=False)
    if train:
        section.update(
            affine={"p": 0.5, "rotation": 30, "scaling": [0.5, 1.25], "translation": 0},
            crop_sampling={"width": 448, "height": 448, "max_shift": 0.1, "method": "hybrid"},
            motion_blur=True,
            gaussian_noise=12.75,
        )
    return section


def make_model_config(
    net_type: str,
    bodyparts: list[str],
    project_path: str,
    pose_config_path: str,
    **overrides,
) -> dict:
    """The full pytorch_config.yaml dict for a new single-animal model, DeepLabCut 3 defaults.

    overrides: dotted keys into the config, e.g. `**{"train_settings.epochs": 50,
    "posering.weight_init": "/path/imagenet.pth"}`; a dict value replaces the whole sub-tree.
    """
    entry = backbone_entry(net_type)
    k = len(bodyparts)
    config = {
        "config_version": 0,
        "model": {
            "backbone": {
                "type": entry.config_type,
                "model_name": entry.timm_name,
                "output_stride": entry.output_stride,
                "freeze_bn_stats": False,
                "freeze_bn_weights": False,
            },
            "backbone_output_channels": entry.channels,
            "heads": {"bodypart": _head_section(entry.channels, entry.output_stride, k)},
            "neck": None,
            "pose_model": None,
        },
        "net_type": net_type,
        "method": "bu",
        "device": "auto",
        "metadata": {
            "project_path": str(project_path),
            "pose_config_path": str(pose_config_path),
            "bodyparts": list(bodyparts),
            "unique_bodyparts": [],
            "individuals": ["individual_1"],
            "with_identity": None,
        },
        "data": {
            "bbox_margin": 20,
            "colormode": "RGB",
            "inference": _transforms(train=False),
            "train": _transforms(train=True),
        },
        "runner": {
            "type": "PoseTrainingRunner",
            "gpus": None,
            "device": "auto",
            "key_metric": "test.mAP",
            "key_metric_asc": True,
            "eval_interval": 10,
            "optimizer": {"type": "AdamW", "params": {"lr": 0.0005}},
            "scheduler": {
                "type": "LRListScheduler",
                "params": {"lr_list": [[0.0001], [0.00001]], "milestones": [90, 120]},
            },
            "snapshots": {"max_snapshots": 5, "save_epochs": 25, "save_optimizer_state": False},
        },
        "train_settings": {
            "batch_size": 8,
            "dataloader_workers": 0,
            "dataloader_pin_memory": False,
            "display_iters": 500,
            "epochs": 200,
            "seed": 42,
            "weight_init": None,
        },
        "inference": {
            "multithreading": {"enabled": True, "queue_length": 4, "timeout": 30.0},
            "compile": {"enabled": False, "backend": "inductor"},
            "autocast": {"enabled": False},
            "eval": {"mode": "all", "pcutoff": 0.6, "comparison_bodyparts": "all",
                     "per_keypoint_evaluation": False},
        },
        "logger": None,
        "with_center_keypoints": False,
        "detector": None,
        "resume_training_from": None,
        "posering": dict(POSERING_DEFAULTS),
    }
    for dotted, value in overrides.items():
        set_dotted(config, dotted, copy.deepcopy(value))
    return config


def set_dotted(config: dict, dotted: str, value) -> None:
    """config["a"]["b"]["c"] = value for dotted "a.b.c", creating the levels that are missing."""
    node = config
    *parents, last = dotted.split(".")
    for key in parents:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[last] = value


def load_model_config(path: str) -> dict:
    """pytorch_config.yaml as a dict (safe_load: the file is parsed, never executed)."""
    try:
        config = yaml.safe_load(storage.read_text(str(path)))
    except yaml.YAMLError as err:
        raise ModelError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(config, dict):
        raise ModelError(f"{path}: expected a mapping of settings, found {type(config).__name__}")
    return config


def save_model_config(config: dict, path: str) -> None:
    """Write the config atomically, keys in DeepLabCut's order."""
    storage.write_bytes(str(path), yaml.safe_dump(config, sort_keys=False).encode("utf-8"))


def read_model_spec(path: str) -> ModelSpec:
    """load_model_config + parse_model_config for a pytorch_config.yaml path or URL."""
    return parse_model_config(load_model_config(path), path)
