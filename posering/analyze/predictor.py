"""Loading a trained model for inference, once per process (or per Ray actor)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch

from posering import storage
from posering.project.models import ModelRef

log = logging.getLogger("posering.analyze")


def set_threads(threads: int | None) -> None:
    """Intra-op threads for CPU inference; None keeps torch's choice."""
    if threads:
        torch.set_num_threads(int(threads))


@dataclass
class Predictors:
    """What an analysis engine runs: ``full`` for whole frames (the fastest path for the model
    on this device, ONNX Runtime for float32 on a CPU) and ``crops`` for dynamic crops (the same
    predictor, except for GroupNorm networks exported to ONNX: their crops run in torch, whose
    layers ``fullview.py`` patches; an ONNX graph cannot be)."""

    full: object
    crops: object
    num_keypoints: int


def load_predictor(model_ref: ModelRef, device: str | None = "auto", precision: str = "auto",
                   crops: bool = False):
    """(predictor, number of keypoints) for a model of a project (local or s3).

    ``crops``: the predictor will see dynamic crops; a GroupNorm network then runs in torch,
    whose layers ``fullview.py`` can patch (an exported ONNX graph cannot be).
    """
    from posering.model.build import load_dlc_model
    from posering.model.runtime import make_predictor

    model = load_dlc_model(model_ref.model_config, model_ref.snapshot.location, device=device or "auto")
    if crops and _has_groupnorm(model):
        options = {"backend": "torch", "precision": _torch_precision(precision)}
    else:
        options = {"precision": precision, "onnx_cache": _onnx_cache(model_ref, precision)}
    predictor = make_predictor(model, device=device or "auto", **options)
    _log_loaded(model_ref, predictor)
    return predictor, model.spec.num_keypoints


def load_predictors(model_ref: ModelRef, device: str | None = "auto", precision: str = "auto",
                    dynamic: bool = False) -> Predictors:
    """The predictors of an analysis worker, from one read of the snapshot.

    With dynamic cropping, frames whose animal is not found run whole through ``full``, the
    very path of a full-frame run, so that an unconfident model costs no more than full frames.
    """
    from posering.model.build import load_dlc_model
    from posering.model.runtime import make_predictor

    model = load_dlc_model(model_ref.model_config, model_ref.snapshot.location, device=device or "auto")
    full = make_predictor(model, device=device or "auto", precision=precision,
                          onnx_cache=_onnx_cache(model_ref, precision))
    _log_loaded(model_ref, full)
    crops = full
    if dynamic and full.backend != "torch" and _has_groupnorm(model):
        crops = make_predictor(model, device=device or "auto", precision=_torch_precision(precision),
                               backend="torch")
        log.info("dynamic crops of this GroupNorm network run in torch (full frames in %s)", full.backend)
    return Predictors(full, crops, model.spec.num_keypoints)


def _torch_precision(precision: str) -> str:
    """int8 graphs are ONNX Runtime's: what torch runs instead (crops of GroupNorm networks)."""
    return "fp32" if precision == "int8" else precision


def _onnx_cache(model_ref: ModelRef, precision: str = "fp32") -> str | None:
    """The ONNX graph's cache file (model_cache.py), or None where the snapshot has no
    fingerprint to key it by."""
    from posering.analyze.model_cache import onnx_file
    from posering.errors import PoseringError

    try:
        return onnx_file(model_ref, "int8" if precision == "int8" else "fp32")
    except (PoseringError, OSError) as exc:
        log.debug("no ONNX cache for %s: %s", model_ref.snapshot.location, exc)
        return None


def _has_groupnorm(model: torch.nn.Module) -> bool:
    return any(isinstance(m, torch.nn.GroupNorm) for m in model.modules())


def _log_loaded(model_ref: ModelRef, predictor) -> None:
    log.debug("loaded %s (%s) on %s, %s", storage.name(model_ref.snapshot.location), model_ref.net_type,
              predictor.device, predictor.precision)
