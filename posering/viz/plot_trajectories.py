"""plot_trajectories: DeepLabCut's four plots of each analysed video, in ``plot-poses/<stem>/``.

The drawing is `posering.viz.trajectories.plot_trajectories_table`; this step finds each video's
analysis file (or the filtered one), takes colours, pcutoff and dot size from config.yaml, and
writes ``trajectory.png``, ``plot.png``, ``plot-likelihood.png`` and ``hist.png`` (with a
``_filtered`` suffix for filtered poses) into ``<video folder or destfolder>/plot-poses/<stem>/``.
Several videos are plotted in parallel as Ray tasks.
"""

from __future__ import annotations

import logging

from posering import storage
from posering.formats.poses import read_poses_file
from posering.per_video import AnalysedVideos, analysis_step
from posering.post.analysis_files import AnalysisTarget
from posering.project.paths import FILTERED_SUFFIX, plot_poses_folder
from posering.viz.trajectories import plot_trajectories_table

log = logging.getLogger("posering.viz")


@analysis_step()
def plot_trajectories(
    videos: AnalysedVideos,
    filtered: bool = False,
    showfigures: bool = False,
    displayedbodyparts: str | list[str] = "all",
    pcutoff: float | None = None,
    destfolder: str | None = None,
    imagetype: str = ".png",
    resolution: int = 100,
    linewidth: float = 1.0,
) -> dict[str, dict[str, str]]:
    """Plot trajectories, coordinates, likelihood and jumps of analysed videos into plot-poses/<video>/.

    Colours, pcutoff and transparency come from config.yaml (colormap, pcutoff, alphavalue).
    Returns, per video, {plot name: file}.

    Parameters
    ----------
    filtered: plot the filtered poses (<video><scorer>_filtered.h5).
    showfigures: also show the plots in a window (needs a display; otherwise only saved).
    displayedbodyparts: 'all' or a list of bodyparts to plot.
    pcutoff: points below this likelihood are left out of the position plots (default: config's).
    destfolder: where the analysis files are and plot-poses/ goes (default: beside each video).
    imagetype: file type of the plots: .png, .jpg, .svg or .pdf.
    resolution: dots per inch of the plots.
    linewidth: width of the plotted lines.
    """
    cfg = videos.cfg
    style = dict(
        bodyparts=displayedbodyparts,
        pcutoff=float(cfg.get("pcutoff", 0.6) if pcutoff is None else pcutoff),
        colormap=str(cfg.get("colormap", "rainbow")),
        alpha=float(cfg.get("alphavalue", 0.7)),
        imagetype=imagetype,
        resolution=int(resolution),
        linewidth=float(linewidth),
        suffix=FILTERED_SUFFIX if filtered else "",
    )
    results = videos.each(plot_video, {t.video: (t, filtered, style) for t in videos.targets})
    for video, files in results.items():
        log.info("%s: plots in %s", video, storage.parent(next(iter(files.values()))))
    if showfigures:
        _show([f for files in results.values() for f in files.values()])
    return videos.finish(results)


def plot_video(target: AnalysisTarget, filtered: bool, style: dict) -> dict[str, str]:
    """One video's four plots (a Ray task when there are several videos)."""
    df = read_poses_file(target.poses_file(filtered=filtered))
    out = plot_poses_folder(target.video, target.destfolder)
    return plot_trajectories_table(df, out, title=storage.name(target.video),
                                   frame_size=_frame_size(target), **style)


def _frame_size(target: AnalysisTarget) -> tuple[int, int] | None:
    """(width, height) of the video, from the analysis' metadata or the video itself."""
    size = target.meta().frame_size
    if size is not None:
        return size
    try:
        from posering.video import VideoReader

        with VideoReader(target.video) as reader:
            return reader.size
    except Exception:  # the plots are still useful without the frame's outline
        return None


def _show(files: list[str]) -> None:
    import matplotlib
    import matplotlib.pyplot as plt

    if matplotlib.get_backend().lower() in ("agg", "pdf", "svg", "ps", "cairo", "template"):
        log.warning("showfigures: no display here (matplotlib backend %s); the plots are saved",
                    matplotlib.get_backend())
        return
    from posering.frames.images import decode_image

    for location in files:
        if location.lower().endswith((".png", ".jpg", ".jpeg")):
            fig, ax = plt.subplots()
            ax.imshow(decode_image(location))
            ax.set_axis_off()
            ax.set_title(storage.name(location))
    plt.show()
