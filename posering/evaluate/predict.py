"""Predictions on labeled frames: a model from its folder, run on whole images.

Evaluation runs as DeepLabCut 3 does: the full image, no resizing, only normalisation, and
float32 arithmetic (a reduced precision can move the peak of a flat score map by a whole cell,
which would change the reported errors). Consecutive images of the same size share a batch.
"""

from __future__ import annotations

import logging
from typing import Iterable, Iterator

import numpy as np
import torch

from posering.formats.model_config import ModelConfig, read_model_config
from posering.formats.snapshots import Snapshot, read_snapshot
from posering.model import make_predictor
from posering.model.build import build_model, load_weights, pick_device
from posering.train.data import read_image

log = logging.getLogger("posering.evaluate")


def load_model(model_config: ModelConfig | str, snapshot: Snapshot | str, device=None) -> torch.nn.Module:
    """The network of a model folder (its ModelConfig, or the location of its pytorch_config.yaml)
    with a snapshot's weights, in eval mode on `device`."""
    location = snapshot.location if isinstance(snapshot, Snapshot) else str(snapshot)
    if not isinstance(model_config, ModelConfig):
        model_config = read_model_config(str(model_config))
    model = build_model(model_config.spec)
    load_weights(model, read_snapshot(location)["model"], location)
    log.info("weights: %s", location)
    return model.to(pick_device(device)).eval()


def float32_predictor(model: torch.nn.Module, device=None, backend: str = "torch"):
    """The model's float32 inference path (ONNX Runtime on the CPU pays off only for many
    images: exporting costs seconds)."""
    return make_predictor(model, device=device or next(model.parameters()).device, precision="fp32",
                          backend=backend)


def _batches(locations: list[str], batch_size: int) -> Iterator[tuple[list[int], np.ndarray]]:
    """(positions, stacked images) for runs of same-size images."""
    group, images = [], []
    for position, location in enumerate(locations):
        image = read_image(location)
        if images and (image.shape != images[0].shape or len(images) == batch_size):
            yield group, np.stack(images)
            group, images = [], []
        group.append(position)
        images.append(image)
    if images:
        yield group, np.stack(images)


def predict_images(model: torch.nn.Module, locations: Iterable[str], device=None,
                   batch_size: int = 4, progress=None) -> np.ndarray:
    """(N, K, 3) x, y, likelihood for image files (local paths or URLs), in full-frame pixels."""
    locations = list(locations)
    predictor = float32_predictor(model, device, backend="auto" if len(locations) > 16 else "torch")
    out = np.full((len(locations), model.num_keypoints, 3), np.nan, dtype=np.float32)
    for positions, images in _batches(locations, batch_size):
        out[positions] = predictor(images).cpu().numpy()
        if progress is not None:
            progress(len(positions))
    return out


def maps_for_image(predictor, location: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(image, {"heatmap": (K, h, w), "locref": (2K, h, w)}) raw float32 outputs for one image;
    `predictor` from :func:`float32_predictor`."""
    image = read_image(location)
    outputs = predictor.maps(image[None])
    return image, {k: v[0].cpu().numpy() for k, v in outputs.items()}

