"""check_labels: draw every labeled frame so a person can see that the labels sit where they should.

For each ``labeled-data/<video>/`` with a ``CollectedData_<scorer>.h5`` (or only its ``.csv``:
the labels create_training_dataset trains on, see :func:`posering.formats.labels.labels_source`)
this writes
``labeled-data/<video>_labeled/<image name>``: the frame at its own size, each bodypart as a dot in
its colour of the config's ``colormap`` (``dotsize``, ``alphavalue``), the ``skeleton`` in
``skeleton_color`` and a legend naming the bodyparts. Points that are not labeled are not drawn
and are marked "(not labeled)" in the legend. Drawing uses matplotlib's object API on the Agg
canvas (no window, no global pyplot state); each figure is cleared once rendered.

It also names the frames whose left/right pairs (``leftear``/``rightear``, ``paw_L``/``paw_R``)
lie on the other side of the body than in the video's other frames: labels likely swapped
(:mod:`posering.labeling.swapped_pairs`).
"""

from __future__ import annotations

import logging

import numpy as np

from posering import storage
from posering.errors import LabelsError
from posering.formats import labels
from posering.frames.images import decode_image, encode_png
from posering.labeling.swapped_pairs import find_swapped_in_labels
from posering.project import ProjectPaths, load_config
from posering.project.videos import dataset_video_stems

log = logging.getLogger("posering.viz")


def check_labels(config: str, visualizeindividuals: bool = False, draw_skeleton: bool = True,
                 scale: float = 1.0, dpi: int = 100) -> dict[str, dict]:
    """Draw the labels of every labeled frame into labeled-data/<video>_labeled/.

    Returns, per video, the output folder, how many images were drawn and the frames whose
    left/right pairs look swapped (``swapped``: :class:`SwappedPair` list).

    Parameters
    ----------
    config: path or URL of the project's config.yaml.
    visualizeindividuals: colour points by animal instead of by bodypart (single-animal projects
        have one animal, so all points then share one colour).
    draw_skeleton: draw the skeleton of config.yaml (skeleton, skeleton_color).
    scale: size of the images relative to the frames (1.0 = same size).
    dpi: resolution of the drawing; dotsize is in points, so larger dpi gives larger dots.
    """
    cfg = load_config(config)
    paths = ProjectPaths(cfg)
    style = LabelStyle.from_config(cfg, visualizeindividuals, draw_skeleton)
    results = {}
    for stem in dataset_video_stems(cfg):
        source = labels.labels_source(paths.collected_data(stem))
        if source is None:
            log.info("%s: no %s (nor its .csv); nothing to check", stem, storage.name(paths.collected_data(stem)))
            continue
        table = labels.conform_bodyparts(labels.read_labels(source), cfg.bodyparts, source)
        out = paths.checked_labels_folder(stem)
        drawn = _draw_folder(table, paths.labeled_folder(stem), out, style, float(scale), int(dpi))
        log.info("%s: drew %d labeled frames into %s", stem, len(drawn), out)
        swapped = find_swapped_in_labels(table, cfg.bodyparts)
        for suspect in swapped:
            log.warning("%s (drawn in %s)", suspect.message(),
                        storage.join(out, storage.name(suspect.image)))
        results[stem] = {"folder": out, "images": len(drawn), "swapped": swapped}
    if not results:
        log.warning("no labeled-data folder has a CollectedData_%s.h5 yet; label frames first", cfg.scorer)
    return results


class LabelStyle:
    """How points and bones look: colours per bodypart, dot size, transparency, skeleton."""

    def __init__(self, bodyparts: list[str], colors: list, dotsize: float, alpha: float,
                 skeleton: list[tuple[int, int]], skeleton_color):
        self.bodyparts = bodyparts
        self.colors = colors
        self.dotsize = dotsize
        self.alpha = alpha
        self.skeleton = skeleton
        self.skeleton_color = skeleton_color

    @classmethod
    def from_config(cls, cfg, visualizeindividuals: bool = False, draw_skeleton: bool = True) -> "LabelStyle":
        import matplotlib

        bodyparts = cfg.bodyparts
        # As DeepLabCut: the colormap resampled to one colour per bodypart (per animal when
        # colouring by individual; one animal here).
        ncolors = 1 if visualizeindividuals else len(bodyparts)
        cmap = matplotlib.colormaps[cfg["colormap"]].resampled(ncolors)
        colors = [cmap(0 if visualizeindividuals else i) for i in range(len(bodyparts))]
        index = {bp: i for i, bp in enumerate(bodyparts)}
        bones = [(index[a], index[b]) for a, b in cfg.skeleton] if draw_skeleton else []
        return cls(bodyparts, colors, float(cfg["dotsize"]), float(cfg["alphavalue"]), bones,
                   cfg["skeleton_color"])


def _draw_folder(table, folder: str, out: str, style: LabelStyle, scale: float, dpi: int) -> list[str]:
    """Draw each row's image of ``folder`` (the folder the labels file is in) into ``out``."""
    points = labels.points(table, style.bodyparts)
    storage.makedirs(out)
    present = set(storage.listdir(folder))
    drawn, missing = [], []
    for relpath, xy in zip(labels.image_relpaths(table), points):
        name = storage.name(relpath)
        if name not in present:
            missing.append(relpath)
            continue
        png = draw_labels(decode_image(storage.join(folder, name)), xy, style, scale=scale, dpi=dpi)
        storage.write_bytes(storage.join(out, name), png)
        drawn.append(name)
    if missing:
        log.warning("%d labeled images are missing, e.g. %s; their labels were not drawn",
                    len(missing), missing[0])
    # Images of rows that no longer exist would show labels that are gone: remove them.
    for entry in storage.listdir(out):
        if entry.lower().endswith(".png") and entry not in drawn:
            storage.remove(storage.join(out, entry))
    return drawn


def draw_labels(image: np.ndarray, xy: np.ndarray, style: LabelStyle, scale: float = 1.0,
                dpi: int = 100) -> bytes:
    """The image (RGB) with its points (K, 2; NaN = not labeled) drawn, as PNG bytes.

    matplotlib draws only the marks, on a transparent canvas the size of the output; they are
    then laid over the frame's own pixels. The frame is never resampled by matplotlib (at
    ``scale`` 1 its pixels stay exact) and drawing is several times faster than ``imshow``.
    """
    import cv2
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    if xy.shape != (len(style.bodyparts), 2):
        raise LabelsError(f"expected {len(style.bodyparts)} points, got an array of shape {xy.shape}")
    height, width = image.shape[:2]
    out_w, out_h = max(1, round(width * scale)), max(1, round(height * scale))
    figure = Figure(figsize=(out_w / dpi, out_h / dpi), dpi=dpi)
    figure.patch.set_alpha(0)
    FigureCanvasAgg(figure)  # attaches itself to the figure
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(-0.5, width - 0.5)  # pixel centres at integer coordinates, as in the labels
    axes.set_ylim(height - 0.5, -0.5)
    axes.set_axis_off()
    labeled = np.isfinite(xy).all(axis=1)
    line_width = max(1.0, style.dotsize / 5)
    for a, b in style.skeleton:
        if labeled[a] and labeled[b]:
            axes.plot(xy[[a, b], 0], xy[[a, b], 1], color=style.skeleton_color, alpha=style.alpha,
                      linewidth=line_width, solid_capstyle="round")
    handles = []
    for k, bodypart in enumerate(style.bodyparts):
        # A dark rim keeps light colours visible on light floors; the centre is the label.
        marker = dict(marker="o", markersize=style.dotsize, markerfacecolor=style.colors[k],
                      markeredgecolor="black", markeredgewidth=0.6, alpha=style.alpha, linestyle="none")
        if labeled[k]:
            axes.plot([xy[k, 0]], [xy[k, 1]], **marker)
        text = bodypart if labeled[k] else f"{bodypart} (not labeled)"
        handles.append(Line2D([], [], label=text, **marker))
    fontsize = max(6.0, min(10.0, out_h / dpi * 72 / 40))
    axes.legend(handles=handles, loc="best", fontsize=fontsize, framealpha=0.6,
                borderpad=0.3, handletextpad=0.3, labelspacing=0.25, borderaxespad=0.3)
    figure.canvas.draw()
    marks = np.asarray(figure.canvas.buffer_rgba())
    figure.clear()
    if marks.shape[:2] != (out_h, out_w):  # figure sizes are floats; guard against an off-by-one
        marks = cv2.resize(marks, (out_w, out_h), interpolation=cv2.INTER_LINEAR)
    base = image if (out_w, out_h) == (width, height) else cv2.resize(
        image, (out_w, out_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    # Agg's buffer holds straight (not premultiplied) alpha; only the marked pixels change.
    out = base.copy()
    rows, cols = np.nonzero(marks[..., 3])
    alpha = marks[rows, cols, 3:4].astype(np.float32) / 255.0
    mixed = base[rows, cols].astype(np.float32) * (1.0 - alpha) + marks[rows, cols, :3] * alpha
    out[rows, cols] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
    return encode_png(out)
