"""``extract_save_all_maps``: the network's score and location-refinement maps as images.

For each chosen labeled frame, two PNGs in ``evaluation-results-pytorch/.../maps/`` (or
``dest_folder``):

* ``<Training|Test>-<video>-<image>_scmap.png``: the frame, then one panel per bodypart with its
  score map (upsampled to the frame, stride 8) over the frame, the label (+) and the peak (.);
* ``<...>_locref.png``: per bodypart, the length of the locref offset (pixels) in the cells the
  network is confident about, with the label.

Helps to see what a weak model is unsure of (flat maps, two peaks, a swapped left/right).
"""

from __future__ import annotations

import io
import logging

import cv2
import numpy as np
import torch

from posering import storage
from posering.dataset.training_set import load_training_set
from posering.evaluate.evaluate_network import comparison_indices
from posering.evaluate.predict import float32_predictor, load_model, maps_for_image
from posering.formats.model_config import read_model_config
from posering.formats.snapshots import select_snapshots
from posering.model import decode_poses
from posering.project import ProjectPaths, load_config
from posering.project.paths import LOCREF_SUFFIX, SCOREMAP_SUFFIX, SCOREMAPS_DIR

log = logging.getLogger("posering.evaluate")


def _upsample(map_: np.ndarray, stride: float, shape) -> np.ndarray:
    """A stride-`stride` map resized onto the frame (cell i covers pixels i*stride..)."""
    height, width = shape[:2]
    big = cv2.resize(map_, (int(map_.shape[1] * stride), int(map_.shape[0] * stride)),
                     interpolation=cv2.INTER_LINEAR)
    canvas = np.zeros((height, width), dtype=np.float32)
    h, w = min(height, big.shape[0]), min(width, big.shape[1])
    canvas[:h, :w] = big[:h, :w]
    return canvas


def _panels(image, maps, labels, peaks, names, title, vmax=None, cmap="jet") -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    count = len(names) + 1
    columns = min(count, 3)
    rows = int(np.ceil(count / columns))
    aspect = image.shape[0] / image.shape[1]
    figure = Figure(figsize=(4 * columns, 4 * aspect * rows + 0.4), dpi=100)
    axis = figure.add_subplot(rows, columns, 1)
    axis.imshow(image)
    axis.set_title(title, fontsize=8)
    axis.axis("off")
    for k, name in enumerate(names):
        axis = figure.add_subplot(rows, columns, k + 2)
        axis.imshow(image, alpha=0.6)
        shown = axis.imshow(maps[k], alpha=0.5, cmap=cmap, vmin=0, vmax=vmax if vmax else max(1e-6, maps[k].max()))
        if np.isfinite(labels[k]).all():
            axis.scatter(*labels[k], marker="+", s=80, color="white", linewidths=2)
        axis.scatter(peaks[k][0], peaks[k][1], marker=".", s=60, color="red")
        axis.set_title(f"{name} (peak {peaks[k][2]:.2f})", fontsize=8)
        axis.axis("off")
        figure.colorbar(shown, ax=axis, fraction=0.04)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def extract_save_all_maps(config: str, shuffle: int = 1, trainingsetindex: int = 0,
                          comparisonbodyparts: str | list[str] = "all", Indices: list[int] | None = None,
                          dest_folder: str | None = None, snapshotindex: int | str | None = None,
                          device: str | None = None) -> str:
    """Save score maps and locref maps of labeled frames as images; returns the folder.

    Parameters
    ----------
    config: path or URL of the project's config.yaml.
    shuffle: the shuffle whose model to use.
    trainingsetindex: which TrainingFraction of config.yaml (0 = the first).
    comparisonbodyparts: bodyparts to show: all, or a list of names.
    Indices: rows of the training dataset to draw (default: all labeled frames), e.g. [0, 5].
    dest_folder: where to write (default: the shuffle's evaluation folder, maps/).
    snapshotindex: which snapshot (default: config.yaml's snapshotindex, -1 = best, else last).
    device: cpu, cuda, ... (default: a GPU when there is one).
    """
    from posering.train.train_network import resolve_device

    cfg = load_config(config)
    paths = ProjectPaths(cfg)
    fraction = cfg.training_fractions[trainingsetindex]
    training_set = load_training_set(cfg, shuffle, trainingsetindex)
    model_config = read_model_config(paths.model_config_file(fraction, shuffle))
    index = cfg.get("snapshotindex", -1) if snapshotindex is None else snapshotindex
    if index == "all":
        index = -1
    snapshot = select_snapshots(paths.train_dir(fraction, shuffle), index)[0]
    model = load_model(model_config, snapshot, resolve_device(device, None, model_config))
    folder = dest_folder or storage.join(paths.evaluation_folder(fraction, shuffle), SCOREMAPS_DIR)
    chosen = comparison_indices(training_set.bodyparts, comparisonbodyparts)
    names = [training_set.bodyparts[i] for i in chosen]
    kind = {i: "Training" for i in training_set.train_indices} | {i: "Test" for i in training_set.test_indices}
    rows = range(len(training_set.relpaths)) if Indices is None else [int(i) for i in Indices]
    stride, spec = float(model.stride), model.spec
    predictor = float32_predictor(model)
    for row in rows:
        parts = training_set.relpaths[row].split("/")
        image, maps = maps_for_image(predictor, storage.join(training_set.root, *parts))
        pose = decode_poses({k: torch.from_numpy(v[None]) for k, v in maps.items()}, stride,
                            spec.locref_std, spec.apply_sigmoid)[0].numpy()[chosen]
        heat = maps["heatmap"]
        if spec.apply_sigmoid:
            heat = 1 / (1 + np.exp(-heat))
        scores = [_upsample(np.clip(heat[k], 0, None), stride, image.shape) for k in chosen]
        labels = training_set.keypoints[row][chosen]
        base = f"{kind.get(row, 'Unused')}-{parts[-2]}-{parts[-1].rsplit('.', 1)[0]}"
        title = f"{kind.get(row, 'Unused')}: {'/'.join(parts[-2:])} ({storage.name(snapshot.location)})"
        storage.write_bytes(storage.join(folder, base + SCOREMAP_SUFFIX),
                            _panels(image, scores, labels, pose, names, title))
        if "locref" in maps:
            locref = maps["locref"]
            lengths = []
            for k in chosen:
                length = np.hypot(locref[2 * k], locref[2 * k + 1]) * spec.locref_std
                # Offsets only mean something where the network sees the keypoint.
                length = np.where(heat[k] > 0.1 * max(heat[k].max(), 1e-6), length, 0)
                lengths.append(_upsample(length.astype(np.float32), stride, image.shape))
            storage.write_bytes(storage.join(folder, base + LOCREF_SUFFIX),
                                _panels(image, lengths, labels, pose, names, title + " locref (px)", cmap="viridis"))
    log.info("maps of %d frames written to %s", len(rows), folder)
    return folder
