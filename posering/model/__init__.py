"""The pose network: timm backbones, DeepLabCut 3's heatmap head, targets, loss and decoding.

A model is data: its config (DeepLabCut 3's pytorch_config.yaml, `posering.formats.model_config`)
plus a snapshot of tensors (`posering.formats.snapshots`). DeepLabCut 3 single-animal models load
unchanged.
"""

from posering.model.backbones import BACKBONES, Backbone, BackboneEntry, build_backbone
from posering.model.build import build_model, load_dlc_model, load_weights, pick_device
from posering.model.decode import decode_poses
from posering.model.heads import DeconvModule, HeatmapHead
from posering.model.loss import pose_loss
from posering.model.posenet import PoseNet
from posering.model.pretrained import init_backbone_weights
from posering.model.runtime import Predictor, make_predictor
from posering.model.spec import ModelSpec, parse_model_config
from posering.model.targets import make_targets

__all__ = [
    "BACKBONES", "Backbone", "BackboneEntry", "DeconvModule", "HeatmapHead", "ModelSpec",
    "PoseNet", "Predictor", "build_backbone", "build_model", "decode_poses",
    "init_backbone_weights", "load_dlc_model", "load_weights", "make_predictor", "make_targets",
    "parse_model_config", "pick_device", "pose_loss",
]
