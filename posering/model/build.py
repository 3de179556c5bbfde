"""Building models from a ModelSpec and giving them a snapshot's weights (files: formats/snapshots.py)."""

from __future__ import annotations

import torch

from posering.errors import ModelError
from posering.formats.snapshots import read_weights
from posering.model.backbones import build_backbone
from posering.model.heads import HeatmapHead
from posering.model.posenet import PoseNet
from posering.model.pretrained import init_backbone_weights
from posering.model.spec import ModelSpec


def build_model(spec: ModelSpec, weight_init: str | None = None) -> PoseNet:
    """A PoseNet for `spec`: head initialised N(0, 0.001^2); backbone random unless
    `weight_init` names a source (see pretrained.init_backbone_weights, e.g. spec.weight_init)."""
    backbone = build_backbone(spec.net_type, spec.output_stride)
    head = HeatmapHead(spec.heatmap_config, spec.locref_config)
    model = PoseNet(backbone, head, spec)
    if weight_init is not None:
        init_backbone_weights(model.backbone, weight_init)
    return model


def load_weights(model: PoseNet, state_dict: dict, source: str) -> None:
    """load_state_dict(strict=True) with a one-line explanation of any mismatch."""
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    wrong = [k for k in own if k in state_dict and state_dict[k].shape != own[k].shape]
    if missing or unexpected or wrong:
        parts = []
        for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong)):
            if keys:
                parts.append(f"{len(keys)} {label} (e.g. {keys[0]})")
        raise ModelError(f"{source}: snapshot does not fit the model config: {', '.join(parts)}")
    model.load_state_dict(state_dict, strict=True)


def pick_device(device: str | torch.device | None = "auto") -> torch.device:
    """CUDA when asked or, for "auto"/None, when available; the CPU otherwise."""
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ModelError(f"device {device} asked for, but no CUDA GPU is available here")
    return device


def load_dlc_model(model_config, snapshot_path: str, device: str | torch.device | None = "auto") -> PoseNet:
    """A ready model (eval mode, on `device`, its ModelSpec as `.spec`) from a DeepLabCut 3
    or posering model config (a ModelConfig, or the location of its pytorch_config.yaml) and a
    snapshot."""
    from posering.formats.model_config import ModelConfig, read_model_config

    if not isinstance(model_config, ModelConfig):
        model_config = read_model_config(str(model_config))
    model = build_model(model_config.spec)
    state, _ = read_weights(str(snapshot_path))
    load_weights(model, state, str(snapshot_path))
    return model.to(pick_device(device)).eval()
