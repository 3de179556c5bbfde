"""Loading a trained model for inference, once per process (or per Ray actor)."""

from __future__ import annotations

import logging

import torch

from posering import storage
from posering.project.models import ModelRef

log = logging.getLogger("posering.analyze")


def set_threads(threads: int | None) -> None:
    """Intra-op threads for CPU inference; None keeps torch's choice."""
    if threads:
        torch.set_num_threads(int(threads))


def load_predictor(model_ref: ModelRef, device: str | None = "auto", precision: str = "auto"):
    """(predictor, number of keypoints) for a model of a project (local or s3)."""
    from posering.model.build import load_dlc_model
    from posering.model.runtime import make_predictor

    model = load_dlc_model(model_ref.config_file, model_ref.snapshot.location, device=device or "auto")
    predictor = make_predictor(model, device=device or "auto", precision=precision)
    log.debug("loaded %s (%s) on %s, %s", storage.name(model_ref.snapshot.location), model_ref.net_type,
              predictor.device, predictor.precision)
    return predictor, model.spec.num_keypoints
