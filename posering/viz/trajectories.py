"""The four trajectory plots of DeepLabCut's ``plot_trajectories``, drawn from a pose table.

`plot_trajectories_table` writes into `out_dir` (DeepLabCut puts them in
``<videofolder>/plot-poses/<video stem>/``):

- ``trajectory.png``: every bodypart's (x, y) positions, in image coordinates (y grows
  downwards, as in the video frame), equal scale on both axes.
- ``plot.png``: x and y against frame number, one panel each.
- ``plot-likelihood.png``: likelihood against frame number, with the `pcutoff` line.
- ``hist.png``: histogram of frame-to-frame movement (Euclidean jump, px) per bodypart.
  DeepLabCut histograms the signed x and y differences instead; the jump distance is what a
  person checks the plot for (how far points leap between frames), so posering plots that.

Points with likelihood below `pcutoff` are left out of the position plots and jumps (a jump
needs both frames above the cutoff); the likelihood plot shows everything. Colours spread the
`colormap` over the plotted bodyparts, as DeepLabCut does; every plot has a legend by bodypart.

Drawing uses matplotlib's object API on Agg canvases: no pyplot, so no global figure state, no
display needed, nothing left open. Files go through `posering.storage` (a local folder or an
``s3://`` prefix), written atomically: an interrupted run leaves whole images or none.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from posering import storage
from posering.errors import PoseringError
from posering.post.pose_table import get_scorer, resolve_bodyparts, to_arrays, validate_poses

PLOT_NAMES = ("trajectory", "plot", "plot-likelihood", "hist")


def bodypart_colors(n: int, colormap: str = "rainbow") -> list[tuple[float, float, float, float]]:
    """`n` RGBA colours spread evenly over a matplotlib colormap (first and last ends included)."""
    try:
        cmap = colormaps[colormap]
    except KeyError:
        raise PoseringError(
            f"colormap {colormap!r} is not a matplotlib colormap; try rainbow, jet, viridis"
        ) from None
    return [cmap(v) for v in np.linspace(0.0, 1.0, n)] if n > 1 else [cmap(0.0)]


def _legend(ax, bodyparts: list[str], colors: list, extra: Sequence = (), **kw) -> None:
    # Proxy handles: a bodypart with nothing above pcutoff still gets its legend entry.
    handles = [Line2D([], [], color=c, linewidth=2.0, label=bp) for bp, c in zip(bodyparts, colors)]
    ax.legend(handles=[*handles, *extra], title="bodypart", fontsize="small", **kw)


def _note_empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.3")


def _nothing_above(pcutoff: float) -> str:
    return f"no point has likelihood >= pcutoff ({pcutoff:g}):\nlower pcutoff to see the positions"


def _span(values: np.ndarray) -> tuple[float, float] | None:
    """(min, max) of the finite values, or None when there are none."""
    finite = values[np.isfinite(values)]
    return (float(finite.min()), float(finite.max())) if finite.size else None


def _save(fig: Figure, location: str, resolution: int) -> None:
    """Render `fig` into `location` (local path or URL), atomically."""
    FigureCanvasAgg(fig)  # attach an Agg canvas: rendering needs no GUI backend
    fmt = location.rsplit(".", 1)[-1]
    with storage.atomic_write(location, "wb") as handle:
        fig.savefig(handle, dpi=resolution, bbox_inches="tight", format=fmt)


def plot_trajectories_table(
    df: pd.DataFrame,
    out_dir: str | os.PathLike,
    bodyparts: str | Sequence[str] = "all",
    pcutoff: float = 0.6,
    colormap: str = "rainbow",
    dotsize: float = 3.0,
    alpha: float = 0.7,
    imagetype: str = ".png",
    resolution: int = 100,
    linewidth: float = 1.0,
    suffix: str = "",
    title: str | None = None,
    frame_size: tuple[int, int] | None = None,
) -> dict[str, str]:
    """Draw the four plots of `df` into `out_dir` (folder or URL); return ``{plot name: location}``.

    `bodyparts` is ``'all'`` or a list; `dotsize` is the marker size (points) of the trajectory
    plot; `alpha` the opacity of marks and lines; `imagetype` the file extension (``.png``,
    ``.jpg``, ``.svg``, ``.pdf``...); `resolution` the dpi; `suffix` is added to each file stem
    (DeepLabCut adds ``_filtered`` for filtered data); `title` (e.g. the video name) heads each
    plot, the scorer is used when it is None. `frame_size` ``(width, height)`` in pixels, when
    known, makes the trajectory plot show the whole video frame.
    """
    df = validate_poses(df)
    names = resolve_bodyparts(df, bodyparts)
    x, y, p = to_arrays(df, names)
    frames = df.index.to_numpy()
    colors = bodypart_colors(len(names), colormap)
    heading = title if title is not None else get_scorer(df)
    ext = imagetype if imagetype.startswith(".") else f".{imagetype}"
    out = storage.normalize(out_dir)
    storage.makedirs(out)

    # Below the cutoff a point is not believed: hide it (NaN breaks lines and drops dots).
    keep = p >= pcutoff
    xs, ys = np.where(keep, x, np.nan), np.where(keep, y, np.nan)
    any_kept = bool(np.isfinite(xs).any())
    style = dict(alpha=alpha, linewidth=linewidth)

    if frame_size is not None:
        xlim, ylim = (0.0, float(frame_size[0])), (0.0, float(frame_size[1]))
    elif any_kept:
        xlim = ylim = None  # let matplotlib fit the believed points
    else:
        # Nothing to draw: frame the axes on all predictions so the empty plot still has
        # meaningful pixel scales instead of matplotlib's default -0.05..0.05.
        xlim, ylim = _span(x), _span(y)

    figures = {
        "trajectory": _trajectory(xs, ys, names, colors, dotsize, alpha, pcutoff, any_kept, xlim, ylim),
        "plot": _positions(frames, xs, ys, names, colors, style, pcutoff, any_kept, xlim, ylim),
        "plot-likelihood": _likelihood(frames, p, names, colors, style, pcutoff),
        "hist": _jumps(xs, ys, names, colors, linewidth, pcutoff),
    }
    written = {}
    for name, fig in figures.items():
        fig.suptitle(f"{heading}\n{fig.get_label()}", fontsize="medium")
        location = storage.join(out, f"{name}{suffix}{ext}")
        _save(fig, location, resolution)
        written[name] = location
    return written


def _trajectory(xs, ys, names, colors, dotsize, alpha, pcutoff, any_kept, xlim, ylim) -> Figure:
    fig = Figure(figsize=(8, 6), label=f"Trajectories (points with likelihood >= {pcutoff:g})")
    ax = fig.add_subplot()
    for k, color in enumerate(colors):
        ax.plot(xs[:, k], ys[:, k], ".", color=color, markersize=dotsize, alpha=alpha)
    if not any_kept:
        _note_empty(ax, _nothing_above(pcutoff))
    if xlim is not None:
        ax.set_xlim(*xlim)
    if ylim is not None:
        ax.set_ylim(*ylim)
    # Fixed limits: shrink the box to keep 1 px = 1 px; free limits: widen the data range.
    ax.set_aspect("equal", adjustable="box" if xlim is not None else "datalim")
    ax.invert_yaxis()  # image rows: y = 0 is the top of the frame
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels, down as in the image)")
    _legend(ax, names, colors, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return fig


def _positions(frames, xs, ys, names, colors, style, pcutoff, any_kept, xlim, ylim) -> Figure:
    fig = Figure(figsize=(10, 5), label=f"Position over time (points with likelihood >= {pcutoff:g})")
    ax_x, ax_y = fig.subplots(2, 1, sharex=True)
    for k, color in enumerate(colors):
        ax_x.plot(frames, xs[:, k], "-", color=color, **style)
        ax_y.plot(frames, ys[:, k], "-", color=color, **style)
    if not any_kept:
        _note_empty(ax_x, _nothing_above(pcutoff))
        _note_empty(ax_y, _nothing_above(pcutoff))
        if len(frames):
            ax_y.set_xlim(frames[0], frames[-1])
    if xlim is not None and ylim is not None and not any_kept:
        ax_x.set_ylim(*xlim)
        ax_y.set_ylim(*ylim)
    ax_x.set_ylabel("x (pixels)")
    ax_y.set_ylabel("y (pixels)")
    ax_y.set_xlabel("frame")
    _legend(ax_x, names, colors, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def _likelihood(frames, p, names, colors, style, pcutoff) -> Figure:
    fig = Figure(figsize=(10, 3.5), label="Likelihood over time (use it to choose pcutoff)")
    ax = fig.add_subplot()
    for k, color in enumerate(colors):
        ax.plot(frames, p[:, k], "-", color=color, **style)
    cut = ax.axhline(pcutoff, color="black", linestyle="--", linewidth=1.0, label=f"pcutoff = {pcutoff:g}")
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlabel("frame")
    ax.set_ylabel("likelihood")
    _legend(ax, names, colors, extra=[cut], loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def _jumps(xs, ys, names, colors, linewidth, pcutoff) -> Figure:
    fig = Figure(figsize=(8, 5), label=f"Frame-to-frame movement (steps between frames both >= pcutoff {pcutoff:g})")
    ax = fig.add_subplot()
    # NaN where either frame was below pcutoff, so those steps drop out.
    steps = np.hypot(np.diff(xs, axis=0), np.diff(ys, axis=0))
    finite = steps[np.isfinite(steps)]
    if finite.size:
        bins = np.linspace(0.0, max(float(finite.max()), 1.0), 60)
        for k, color in enumerate(colors):
            s = steps[:, k]
            s = s[np.isfinite(s)]
            if s.size:
                ax.hist(s, bins=bins, histtype="step", color=color, linewidth=linewidth * 1.5)
        ax.set_yscale("log")  # most steps are small; the rare large jumps are what to look for
    else:
        _note_empty(ax, _nothing_above(pcutoff))
        ax.set_xticks([])
        ax.set_yticks([])
    ax.set_xlabel("distance moved since the previous frame (pixels)")
    ax.set_ylabel("number of frames")
    _legend(ax, names, colors, loc="upper right")
    return fig
