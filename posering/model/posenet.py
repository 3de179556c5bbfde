"""PoseNet: a backbone and one heatmap head, with DeepLabCut 3's module names.

Parameters are named `backbone.model.*` and `heads.bodypart.*` exactly as in a DeepLabCut 3
single-animal snapshot, so `PoseNet.load_state_dict(snapshot["model"], strict=True)` works.
"""

from __future__ import annotations

import torch
from torch import nn

from posering.model.backbones import Backbone
from posering.model.heads import HeatmapHead


class PoseNet(nn.Module):
    """images (N,3,H,W), normalised float -> {"heatmap": (N,K,h,w), "locref": (N,2K,h,w)}.

    For a stride-16 backbone and the one-layer head, h = 2*(H/16)+1 (480x640 -> 61x81); the maps
    are read at stride `self.stride` (8) with cell centres at i*stride + stride/2.
    """

    def __init__(self, backbone: Backbone, head: HeatmapHead, spec=None):
        super().__init__()
        # The ModelSpec it was built from (decoding reads locref_std, apply_sigmoid from it).
        self.spec = spec
        self.backbone = backbone
        # A ModuleDict keyed "bodypart" gives the `heads.bodypart.` prefix of DeepLabCut's keys.
        self.heads = nn.ModuleDict({"bodypart": head})
        self.stride = backbone.stride // head.stride
        self.num_keypoints = head.num_keypoints

    @property
    def head(self) -> HeatmapHead:
        return self.heads["bodypart"]

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.head(self.backbone(images))
