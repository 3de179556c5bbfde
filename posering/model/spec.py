"""ModelSpec: what posering reads from a model config, validated, and what it refuses.

`parse_model_config` takes a pytorch_config.yaml dict (DeepLabCut 3's layout, see posering/formats/model_config.py)
and returns a `ModelSpec`, or raises ModelError with one line naming the file and the setting
posering cannot run: top-down models (a detector), multi-animal heads and settings, backbones
outside its registry, heads that do not fit the backbone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from posering.errors import ModelError
from posering.formats.model_config import get_dotted as _get
from posering.model.backbones import BACKBONES, backbone_entry
from posering.model.heads import default_head_config
from posering.model.targets import DEFAULT_LOCREF_STD, DEFAULT_POS_DIST_THRESH

# Name prefixes of DeepLabCut net_types that posering does not run, and why.
_REFUSED_NET_TYPES = {
    "top_down_": "a top-down model (needs a detector)",
    "rtmpose_": "a top-down model (RTMPose needs a detector)",
    "ctd_": "a conditional top-down model",
    "dekr_": "a multi-animal model (DEKR head)",
    "dlcrnet_": "a multi-animal model (DLCRNet PAF head)",
    "animaltokenpose": "a top-down transformer model",
}

# Default posering-only settings (the `posering:` block).
POSERING_DEFAULTS = {
    # ImageNet weights for a new model: "auto" (installed package, else timm hub, else random),
    # "hub", "package", "none", or a path to a timm/torchvision state dict or a snapshot.
    "weight_init": "auto",
    # Inference precision: "auto" picks the measured fastest accurate path (see runtime.py).
    "precision": "auto",
}


@dataclass(frozen=True)
class ModelSpec:
    """What it takes to build and run one single-animal model, validated."""

    net_type: str
    backbone: str  # timm model name
    output_stride: int
    backbone_channels: int
    bodyparts: tuple[str, ...]
    heatmap_config: dict
    locref_config: dict | None
    locref_std: float = DEFAULT_LOCREF_STD
    pos_dist_thresh: float = DEFAULT_POS_DIST_THRESH
    heatmap_mode: str = "gaussian"  # or "plateau"
    gradient_masking: bool = False
    apply_sigmoid: bool = False
    heatmap_weight: float = 1.0
    locref_weight: float = 0.05
    pretrained: bool = False  # model.backbone.pretrained as DeepLabCut wrote it
    weight_init: str = "auto"
    precision: str = "auto"
    source: str = ""
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def num_keypoints(self) -> int:
        return len(self.bodyparts)

    @property
    def stride(self) -> int:
        """Stride of the output maps in input pixels (8 for every default head)."""
        head_stride = 1
        for s in self.heatmap_config["strides"]:
            head_stride *= s
        return self.output_stride // head_stride


def _refuse(source, what: str) -> ModelError:
    return ModelError(f"{source}: {what}; posering runs single-animal bottom-up models only")


def _check_refusals(config: dict, source) -> None:
    net_type = str(config.get("net_type", ""))
    for prefix, why in _REFUSED_NET_TYPES.items():
        if net_type.startswith(prefix):
            raise _refuse(source, f"net_type {net_type!r} is {why}")
    if str(config.get("method", "bu")).lower() != "bu":
        raise _refuse(source, f"method {config.get('method')!r} is a top-down model")
    if config.get("detector"):
        raise _refuse(source, "it has a detector section (a top-down model)")
    heads = _get(config, "model.heads") or {}
    if not isinstance(heads, dict) or set(heads) != {"bodypart"}:
        raise _refuse(source, f"model.heads has {sorted(heads)} (multi-animal or identity heads)")
    if not isinstance(heads["bodypart"], dict):
        raise ModelError(f"{source}: model.heads.bodypart must be a mapping of head settings")
    head_type = heads["bodypart"].get("type")
    if head_type != "HeatmapHead":
        raise _refuse(source, f"head type {head_type!r} is not supported (HeatmapHead only)")
    individuals = _get(config, "metadata.individuals") or ["individual_1"]
    if len(individuals) > 1:
        raise _refuse(source, f"metadata.individuals lists {len(individuals)} animals")
    if _get(config, "metadata.unique_bodyparts"):
        raise _refuse(source, "metadata.unique_bodyparts is set (a multi-animal setting)")
    if _get(config, "metadata.with_identity"):
        raise _refuse(source, "metadata.with_identity is set (identity prediction)")
    if _get(config, "model.neck"):
        raise _refuse(source, "model.neck is set (not supported)")


def parse_model_config(config: dict, source_path: str = "<model config>") -> ModelSpec:
    """Validate a pytorch_config.yaml dict and return what posering builds from it.

    Raises ModelError with one line naming `source_path` and the setting it cannot run.
    """
    source = str(source_path)
    _check_refusals(config, source)
    net_type = config.get("net_type")
    if net_type not in BACKBONES:
        raise ModelError(
            f"{source}: net_type {net_type!r} is not a backbone posering knows; "
            f"known: {', '.join(sorted(BACKBONES))}"
        )
    entry = backbone_entry(net_type)
    backbone = _get(config, "model.backbone") or {}
    timm_name = backbone.get("model_name", entry.timm_name)
    if timm_name != entry.timm_name:
        raise ModelError(
            f"{source}: model.backbone.model_name {timm_name!r} does not match net_type "
            f"{net_type} (expected {entry.timm_name!r})"
        )
    output_stride = int(backbone.get("output_stride", entry.output_stride))
    if output_stride not in entry.strides:
        raise ModelError(
            f"{source}: model.backbone.output_stride {output_stride} is not supported for "
            f"{net_type} (supported: {list(entry.strides)})"
        )

    bodyparts = _get(config, "metadata.bodyparts")
    if not bodyparts or not isinstance(bodyparts, list):
        raise ModelError(f"{source}: metadata.bodyparts is missing or empty")
    k = len(bodyparts)

    head = config["model"]["heads"]["bodypart"]
    predictor = head.get("predictor") or {}
    generator = head.get("target_generator") or {}
    heatmap_config = head.get("heatmap_config") or default_head_config(entry.channels, k, output_stride)
    locref_config = head.get("locref_config")
    if not predictor.get("location_refinement", True):
        locref_config = None
    _check_head(source, "heatmap_config", heatmap_config, entry.channels, k)
    if locref_config is not None:
        _check_head(source, "locref_config", locref_config, entry.channels, 2 * k)
    head_stride = 1
    for step in heatmap_config["strides"]:
        head_stride *= int(step)
    if output_stride % head_stride:
        raise ModelError(
            f"{source}: heatmap_config strides {heatmap_config['strides']} (x{head_stride}) do not "
            f"divide the backbone's output stride {output_stride}"
        )
    if "num_heatmaps" in generator and int(generator["num_heatmaps"]) != k:
        raise ModelError(
            f"{source}: target_generator.num_heatmaps is {generator['num_heatmaps']} but "
            f"metadata.bodyparts has {k} entries"
        )
    generator_type = generator.get("type", "HeatmapGaussianGenerator")
    modes = {"HeatmapGaussianGenerator": "gaussian", "HeatmapPlateauGenerator": "plateau"}
    if generator_type not in modes:
        raise ModelError(f"{source}: target_generator.type {generator_type!r} is not supported")
    if str(generator.get("heatmap_mode", "KEYPOINT")).upper() != "KEYPOINT":
        raise _refuse(source, "target_generator.heatmap_mode is not KEYPOINT (identity maps)")
    criterion = head.get("criterion") or {}
    extra = config.get("posering") or {}
    return ModelSpec(
        net_type=net_type,
        backbone=entry.timm_name,
        output_stride=output_stride,
        backbone_channels=entry.channels,
        bodyparts=tuple(str(b) for b in bodyparts),
        heatmap_config=heatmap_config,
        locref_config=locref_config,
        locref_std=float(predictor.get("locref_std", DEFAULT_LOCREF_STD)),
        pos_dist_thresh=float(generator.get("pos_dist_thresh", DEFAULT_POS_DIST_THRESH)),
        heatmap_mode=modes[generator_type],
        gradient_masking=bool(generator.get("gradient_masking", False)),
        apply_sigmoid=bool(predictor.get("apply_sigmoid", False)),
        heatmap_weight=float((criterion.get("heatmap") or {}).get("weight", 1.0)),
        locref_weight=float((criterion.get("locref") or {}).get("weight", 0.05)),
        pretrained=bool(backbone.get("pretrained", False)),
        weight_init=str(extra.get("weight_init", POSERING_DEFAULTS["weight_init"])),
        precision=str(extra.get("precision", POSERING_DEFAULTS["precision"])),
        source=source,
        extra=dict(extra),
    )


def _check_head(source: str, key: str, head: dict, in_channels: int, out_channels: int) -> None:
    try:
        channels = [int(c) for c in head["channels"]]
        kernels, strides = list(head["kernel_size"]), list(head["strides"])
    except (KeyError, TypeError, ValueError):
        raise ModelError(f"{source}: {key} needs lists channels, kernel_size, strides") from None
    unknown = set(head) - {"channels", "kernel_size", "strides"}
    if unknown:
        raise ModelError(f"{source}: {key} has settings posering does not support: {sorted(unknown)}")
    if not kernels or len(channels) != len(kernels) + 1 or len(strides) != len(kernels):
        raise ModelError(f"{source}: {key} needs one more channel count than layers, got {head}")
    if channels[0] != in_channels or channels[-1] != out_channels:
        raise ModelError(
            f"{source}: {key}.channels {channels} must start at the backbone's {in_channels} "
            f"channels and end at {out_channels}"
        )
