"""Evaluation images: every labeled frame with the human labels and the network's guesses.

Markers, as DeepLabCut draws them: ``+`` the human label, ``.`` a prediction with likelihood
>= pcutoff, ``x`` a prediction below pcutoff; one colour per bodypart from config.yaml's
``colormap``, ``dotsize`` and ``alphavalue`` from config as well. Files are named
``Training-<video>-<image>.png`` / ``Test-<video>-<image>.png``.
"""

from __future__ import annotations

import io

import numpy as np

from posering import storage
from posering.train.data import read_image


def bodypart_colors(colormap: str, count: int) -> np.ndarray:
    """(count, 4) RGBA colours spread over a matplotlib colormap."""
    import matplotlib

    cmap = matplotlib.colormaps.get_cmap(colormap or "rainbow")
    return cmap(np.linspace(0, 1, max(count, 1)))


def draw_frame(image: np.ndarray, label: np.ndarray, prediction: np.ndarray, bodyparts: list[str],
               pcutoff: float, colormap: str = "rainbow", dotsize: float = 12, alpha: float = 0.7,
               title: str = "") -> bytes:
    """One frame as PNG bytes: ``+`` label, ``.`` confident prediction, ``x`` uncertain one."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    height, width = image.shape[:2]
    dpi = 100
    zoom = max(1.0, 640 / width)  # small frames are drawn larger so the markers stay readable
    figure = Figure(figsize=(width * zoom / dpi, height * zoom / dpi), dpi=dpi)
    axis = figure.add_axes((0, 0, 1, 1))
    axis.imshow(image)
    axis.set_xlim(0, width)
    axis.set_ylim(height, 0)
    axis.axis("off")
    colors = bodypart_colors(colormap, len(bodyparts))
    size = float(dotsize)  # marker size in points, as DeepLabCut's ``ms=dotsize``
    for k in range(len(bodyparts)):  # labels first: the predictions are drawn over them
        if np.isfinite(label[k]).all():
            axis.plot(label[k, 0], label[k, 1], "+", ms=size * 1.5, mew=2, color=colors[k], alpha=alpha)
    for k in range(len(bodyparts)):
        x, y, likelihood = prediction[k]
        if np.isfinite([x, y]).all():
            if likelihood >= pcutoff:
                axis.plot(x, y, ".", ms=size * 1.5, color=colors[k], alpha=alpha)
            else:
                axis.plot(x, y, "x", ms=size, mew=1.5, color=colors[k], alpha=alpha)
    handles = [axis.scatter([], [], marker="o", color=colors[k], label=name) for k, name in enumerate(bodyparts)]
    axis.legend(handles=handles, loc="upper right", fontsize=7, framealpha=0.6)
    if title:
        axis.text(5, 15, title, color="white", fontsize=8, bbox={"facecolor": "black", "alpha": 0.5, "pad": 2})
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def plot_evaluation_images(cfg, training_set, predictions: np.ndarray, folder: str, pcutoff: float,
                           chosen: list[int] | None = None) -> list[str]:
    """Write one image per labeled frame into ``folder``; returns the locations written."""
    chosen = chosen if chosen is not None else list(range(len(training_set.bodyparts)))
    names = [training_set.bodyparts[i] for i in chosen]
    kind = {i: "Training" for i in training_set.train_indices} | {i: "Test" for i in training_set.test_indices}
    written = []
    for row, relpath in enumerate(training_set.relpaths):
        if row not in kind:
            continue
        parts = relpath.split("/")
        image = read_image(storage.join(training_set.root, *parts))
        title = f"{kind[row]}: {'/'.join(parts[-2:])}"
        png = draw_frame(image, training_set.keypoints[row][chosen], predictions[row][chosen], names,
                         pcutoff, cfg.get("colormap", "rainbow"), cfg.get("dotsize", 12),
                         cfg.get("alphavalue", 0.7), title)
        location = storage.join(folder, f"{kind[row]}-{parts[-2]}-{parts[-1]}")
        storage.write_bytes(location, png)
        written.append(location)
    return written
