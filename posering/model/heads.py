"""The heatmap head: backbone features -> score maps and location-refinement maps.

Layout and parameter names follow DeepLabCut 3's `HeatmapHead`, so its snapshots load with
`strict=True`: two independent transposed-convolution stacks, `heatmap_head` (K channels, one
score map per keypoint) and `locref_head` (2K channels, x and y offsets interleaved per
keypoint), each a `deconv_layers` Sequential. A stack with several layers puts a ReLU between
layers (none after the last), so its weights are `deconv_layers.0`, `deconv_layers.2`, ...

A stack is described by a DeepLabCut `*_config` dict: `channels` (input channels first, then
each layer's output), `kernel_size` and `strides` (one per layer). The default stack for a
stride-16 backbone is one ConvTranspose2d(C -> K, kernel 3, stride 2, padding 0): maps of
2*(H/16)+1 cells at stride 8. A stride-32 backbone gets two such layers (hidden channels
`HIDDEN_CHANNELS`) so that every posering model decodes at stride 8.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from posering.errors import ModelError

# Hidden width of the first layer of a two-layer head (stride-32 backbones). Small on purpose:
# the head runs on every frame, and 128 channels at 1/32 resolution cost less than the backbone.
HIDDEN_CHANNELS = 128
# DeepLabCut's "normal" head init: N(0, 0.001^2) weights, zero bias. Tiny initial outputs keep
# the first heatmap loss near that of an all-zero prediction.
INIT_STD = 0.001


def default_head_config(in_channels: int, out_channels: int, backbone_stride: int) -> dict:
    """The DeepLabCut-style `*_config` dict that brings `backbone_stride` down to stride 8."""
    n_layers = int(round(math.log2(backbone_stride / 8)))
    if n_layers < 1 or 8 * 2**n_layers != backbone_stride:
        raise ModelError(f"no default head for a backbone of output stride {backbone_stride}")
    hidden = [HIDDEN_CHANNELS] * (n_layers - 1)
    return {
        "channels": [in_channels, *hidden, out_channels],
        "kernel_size": [3] * n_layers,
        "strides": [2] * n_layers,
    }


class DeconvModule(nn.Module):
    """A stack of ConvTranspose2d layers (ReLU between them) described by a `*_config` dict."""

    def __init__(self, channels: list[int], kernel_size: list[int], strides: list[int]):
        super().__init__()
        if not len(channels) == len(kernel_size) + 1 == len(strides) + 1 or not kernel_size:
            raise ModelError(
                f"head config needs one more channel count than kernel sizes and strides, and at "
                f"least one layer; got channels={channels}, kernel_size={kernel_size}, "
                f"strides={strides}"
            )
        layers: list[nn.Module] = []
        for i, (k, s) in enumerate(zip(kernel_size, strides)):
            if layers:
                layers.append(nn.ReLU())
            layers.append(nn.ConvTranspose2d(channels[i], channels[i + 1], kernel_size=k, stride=s))
        self.deconv_layers = nn.Sequential(*layers)
        self.stride = math.prod(strides)
        self.out_channels = channels[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.deconv_layers(x)


class HeatmapHead(nn.Module):
    """Score maps (N,K,h,w) and, optionally, location refinement (N,2K,h,w)."""

    def __init__(self, heatmap_config: dict, locref_config: dict | None = None):
        super().__init__()
        self.heatmap_head = DeconvModule(**heatmap_config)
        self.locref_head = DeconvModule(**locref_config) if locref_config else None
        if self.locref_head is not None:
            # Decoding reads both maps at the same cell: their geometry must agree.
            if self.locref_head.stride != self.heatmap_head.stride:
                raise ModelError(
                    f"heatmap and locref heads must have the same stride, got "
                    f"{self.heatmap_head.stride} and {self.locref_head.stride}"
                )
            if self.locref_head.out_channels != 2 * self.heatmap_head.out_channels:
                raise ModelError(
                    f"locref head needs 2x the heatmap channels (x, y per keypoint), got "
                    f"{self.locref_head.out_channels} for {self.heatmap_head.out_channels}"
                )
        self.stride = self.heatmap_head.stride
        self.num_keypoints = self.heatmap_head.out_channels
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """DeepLabCut's `weight_init: normal` for every transposed convolution of the head."""
        for module in self.modules():
            if isinstance(module, nn.ConvTranspose2d):
                nn.init.normal_(module.weight, mean=0.0, std=INIT_STD)
                nn.init.zeros_(module.bias)

    def forward(self, features: torch.Tensor) -> dict[str, torch.Tensor]:
        out = {"heatmap": self.heatmap_head(features)}
        if self.locref_head is not None:
            out["locref"] = self.locref_head(features)
        return out
