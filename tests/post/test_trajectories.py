import os

import numpy as np
import pytest

from posering.errors import PoseringError
from posering.viz.trajectories import PLOT_NAMES, plot_trajectories_table

from .conftest import smooth_table


def _check_images(paths, out_dir, ext=".png"):
    import matplotlib.image as mpimg

    assert sorted(paths) == sorted(PLOT_NAMES)
    for name in PLOT_NAMES:
        path = paths[name]
        assert path == str(out_dir / f"{name}{ext}") and os.path.isfile(path)
        img = mpimg.imread(path)
        h, w = img.shape[:2]
        assert h > 150 and w > 300, (name, img.shape)
        # not blank: plenty of distinct colours (lines, labels, legend)
        assert len(np.unique(img.reshape(-1, img.shape[-1]), axis=0)) > 20, name
    assert sorted(os.listdir(out_dir)) == sorted(f"{n}{ext}" for n in PLOT_NAMES), "stray files"


def test_four_plots_from_synthetic_table(tmp_path):
    import matplotlib.pyplot as plt

    df, _, _ = smooth_table(200, 3)
    df.loc[50:80, ("DLC_test_scorer", "snout", "likelihood")] = 0.1  # hidden in position plots
    open_before = plt.get_fignums()
    paths = plot_trajectories_table(df, tmp_path, pcutoff=0.6, title="synthetic", frame_size=(640, 480))
    _check_images(paths, tmp_path)
    assert plt.get_fignums() == open_before  # no pyplot figures created or left open


def test_real_file_plots(dlc_poses, tmp_path):
    # DeepLabCut's weak model never reaches 0.6: the position plots say so instead of being empty
    paths = plot_trajectories_table(dlc_poses, tmp_path / "p60", pcutoff=0.6)
    _check_images(paths, tmp_path / "p60")
    paths = plot_trajectories_table(dlc_poses, tmp_path / "p05", bodyparts=["snout", "tailbase"], pcutoff=0.05)
    _check_images(paths, tmp_path / "p05")


def test_suffix_imagetype_and_bad_colormap(tmp_path):
    df, _, _ = smooth_table(50, 1)
    paths = plot_trajectories_table(df, tmp_path, imagetype="jpg", suffix="_filtered", resolution=50)
    assert sorted(os.path.basename(p) for p in paths.values()) == sorted(f"{n}_filtered.jpg" for n in PLOT_NAMES)
    with pytest.raises(PoseringError, match="colormap 'nope' is not a matplotlib colormap"):
        plot_trajectories_table(df, tmp_path, colormap="nope")


def test_plots_to_s3(s3):
    import io

    import matplotlib.image as mpimg

    from posering import storage

    df, _, _ = smooth_table(50, 1)
    paths = plot_trajectories_table(df, f"{s3}/videos/plot-poses/vid")
    assert paths["hist"] == f"{s3}/videos/plot-poses/vid/hist.png"
    for location in paths.values():
        assert mpimg.imread(io.BytesIO(storage.read_bytes(location)), format="png").shape[0] > 150
