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


def load_predictor(model_ref: ModelRef, device: str | None = "auto", precision: str = "auto",
                   crops: bool = False):
    """(predictor, number of keypoints) for a model of a project (local or s3).

    ``crops``: the predictor will see dynamic crops; a GroupNorm network then runs in torch,
    whose layers ``fullview.py`` can patch (an exported ONNX graph cannot be).
    """
    from posering.model.build import load_dlc_model
    from posering.model.runtime import make_predictor

    model = load_dlc_model(model_ref.config_file, model_ref.snapshot.location, device=device or "auto")
    options = {}
    if crops and any(isinstance(m, torch.nn.GroupNorm) for m in model.modules()):
        options["backend"] = "torch"
    predictor = make_predictor(model, device=device or "auto", precision=precision, **options)
    log.debug("loaded %s (%s) on %s, %s", storage.name(model_ref.snapshot.location), model_ref.net_type,
              predictor.device, predictor.precision)
    return predictor, model.spec.num_keypoints
