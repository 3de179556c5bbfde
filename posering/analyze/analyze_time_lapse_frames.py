"""analyze_time_lapse_frames: every image of a folder -> one DeepLabCut pose table."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from posering import labels, storage
from posering.analyze.predictor import load_predictor
from posering.errors import PoseringError
from posering.frames.images import decode_image
from posering.project import load_config
from posering.project.models import resolve_model

log = logging.getLogger("posering.analyze")


def analyze_time_lapse_frames(config: str, directory: str, frametype: str = ".png", shuffle: int = 1,
                              trainingsetindex: int = 0, gputouse: int | None = None,
                              save_as_csv: bool = False, batch_size: int | None = None,
                              snapshot_index: int | None = None, precision: str = "auto") -> str:
    """Analyze a folder of images; writes ``<folder name><scorer>.h5`` in it and returns the scorer.

    Parameters
    ----------
    config: path or URL of the project's config.yaml.
    directory: folder of images (local or s3://).
    frametype: image file extension to analyze.
    shuffle: which shuffle's model to use.
    trainingsetindex: which TrainingFraction of config.yaml the model was trained with.
    gputouse: GPU index (default: CUDA when present, else the CPU).
    save_as_csv: also write the table as CSV.
    batch_size: images per batch (default: config.yaml's batch_size); images of one size batch together.
    snapshot_index: which snapshot (default: config's snapshotindex).
    precision: inference precision: auto, fp32, bf16 or fp16.
    """
    cfg = load_config(config)
    model_ref = resolve_model(cfg, shuffle, trainingsetindex, snapshot_index)
    suffix = frametype if frametype.startswith(".") else f".{frametype}"
    names = [n for n in storage.listdir(directory) if n.lower().endswith(suffix.lower())]
    if not names:
        raise PoseringError(f"{directory}: no {suffix} images here")
    device = f"cuda:{gputouse}" if gputouse is not None else "auto"
    predictor, k = load_predictor(model_ref, device, precision)
    batch_size = int(batch_size or cfg.get("batch_size", 8))
    poses = np.empty((len(names), k, 3), np.float32)
    by_shape: dict[tuple, list[tuple[int, np.ndarray]]] = {}
    for i, name in enumerate(tqdm(names, unit="image", desc="analyzing")):
        image = decode_image(storage.join(directory, name))
        pending = by_shape.setdefault(image.shape, [])
        pending.append((i, image))
        if len(pending) == batch_size:
            _flush(predictor, pending, poses)
    for pending in by_shape.values():
        _flush(predictor, pending, poses)
    from posering.model.config import read_model_spec

    bodyparts = list(read_model_spec(model_ref.config_file).bodyparts)
    table = pd.DataFrame(poses.reshape(len(names), -1).astype(np.float64), index=pd.Index(names),
                         columns=labels.make_columns(model_ref.scorer, bodyparts, likelihood=True))
    base = storage.join(directory, storage.name(directory) + model_ref.scorer)
    if save_as_csv:
        with storage.atomic_write(base + ".csv", "w") as handle:
            table.to_csv(handle)
    with storage.local_target(base + ".h5", suffix=".h5") as tmp:
        table.to_hdf(tmp, key=labels.HDF_KEY, format="table", mode="w")
    log.info("wrote %s.h5 (%d images)", base, len(names))
    return model_ref.scorer


def _flush(predictor, pending: list, poses: np.ndarray) -> None:
    if not pending:
        return
    indices = [i for i, _ in pending]
    poses[indices] = predictor(np.stack([image for _, image in pending])).cpu().numpy()
    pending.clear()
