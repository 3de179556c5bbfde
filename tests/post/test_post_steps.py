"""filterpredictions, analyzeskeleton and plot_trajectories on project files: DeepLabCut's own
analysis file, injected errors, several videos on Ray, s3, and the command line."""

import shutil

import numpy as np
import pandas as pd
import pytest

from posering import storage
from posering.cli import main
from posering.errors import PoseringError, VideosFailed
from posering.post.analyzeskeleton import analyzeskeleton
from posering.post.filterpredictions import filterpredictions
from posering.frames.extract_outlier_frames import extract_outlier_frames
from posering.viz.create_labeled_video import create_labeled_video
from posering.viz.plot_trajectories import plot_trajectories

from .conftest import DLC_SCORER, smooth_table

STEM = "m3v1mp4_clip600"


def _videos(config):
    return config.parent / "videos"


def _analysis(config, stem=STEM, suffix=".h5"):
    return _videos(config) / f"{stem}{DLC_SCORER}{suffix}"


def _read(path):
    return pd.read_hdf(path, "df_with_missing")


def _is_table(path):
    with pd.HDFStore(str(path), "r") as store:
        return store.get_storer("df_with_missing").is_table


def _put_table(config, df, stem=STEM):
    """Replace the clip's analysis file with ``df`` (relabelled to DeepLabCut's scorer)."""
    df = df.copy()
    df.columns = df.columns.set_levels([DLC_SCORER], level=0)
    df.to_hdf(_analysis(config, stem), key="df_with_missing", format="table", mode="w")
    return df


def test_filterpredictions_on_deeplabcut_file(dlc_light_project):
    config = str(dlc_light_project)
    raw = _read(_analysis(dlc_light_project))
    out = filterpredictions(config, str(_videos(dlc_light_project)))
    h5 = _analysis(dlc_light_project).with_name(f"{STEM}{DLC_SCORER}_filtered.h5")
    assert out == {str(_videos(dlc_light_project) / f"{STEM}.mp4"): str(h5)}
    filtered = _read(h5)
    assert _is_table(h5)
    assert filtered.columns.equals(raw.columns) and filtered.index.equals(raw.index)
    assert (filtered.dtypes == raw.dtypes).all()
    like = raw.columns.get_level_values(2) == "likelihood"
    pd.testing.assert_frame_equal(filtered.loc[:, like], raw.loc[:, like])
    csv = pd.read_csv(h5.with_suffix(".csv"), header=[0, 1, 2], index_col=0)
    np.testing.assert_allclose(csv.to_numpy(), filtered.to_numpy(), rtol=1e-6)

    # A second run finds the filtered file and leaves it; overwrite filters again.
    before = h5.stat().st_mtime_ns
    filterpredictions(config, str(_videos(dlc_light_project)))
    assert h5.stat().st_mtime_ns == before
    filterpredictions(config, str(_videos(dlc_light_project)), overwrite=True, windowlength=9)
    assert h5.stat().st_mtime_ns != before


def test_median_removes_injected_jump_in_file(dlc_light_project):
    df, true_x, _ = smooth_table(600, 4)
    df.columns = pd.MultiIndex.from_product([["s"], ["snout", "leftear", "rightear", "tailbase"],
                                             ["x", "y", "likelihood"]])
    df.loc[300, ("s", "snout", "x")] += 250
    _put_table(dlc_light_project, df)
    filterpredictions(str(dlc_light_project), str(_videos(dlc_light_project) / f"{STEM}.mp4"),
                      save_as_csv=False)
    filtered = _read(_analysis(dlc_light_project).with_name(f"{STEM}{DLC_SCORER}_filtered.h5"))
    assert abs(filtered.loc[300, (DLC_SCORER, "snout", "x")] - true_x[300, 0]) < 3
    assert not _analysis(dlc_light_project).with_name(f"{STEM}{DLC_SCORER}_filtered.csv").exists()


def test_arima_fills_gap_in_file(dlc_light_project, ray_session):
    df, true_x, true_y = smooth_table(300, 2, noise=1.0)
    rows = np.arange(150, 160)
    df.loc[rows, ("DLC_test_scorer", "snout", "x")] = 600.0
    df.loc[rows, ("DLC_test_scorer", "snout", "y")] = 20.0
    df.loc[rows, ("DLC_test_scorer", "snout", "likelihood")] = 0.0
    _put_table(dlc_light_project, df)
    filterpredictions(str(dlc_light_project), str(_videos(dlc_light_project)), filtertype="arima",
                      p_bound=0.01)
    out = _read(_analysis(dlc_light_project).with_name(f"{STEM}{DLC_SCORER}_filtered.h5"))[DLC_SCORER]
    err = np.hypot(out["snout"]["x"].to_numpy()[rows] - true_x[rows, 0],
                   out["snout"]["y"].to_numpy()[rows] - true_y[rows, 0])
    assert err.max() < 15, err  # the garbage was 300+ px away; the fit bridges the gap


def _second_video(config, stem="second"):
    videos = _videos(config)
    shutil.copy(videos / f"{STEM}.mp4", videos / f"{stem}.mp4")
    shutil.copy(_analysis(config), _analysis(config, stem))


def test_several_videos_in_parallel_on_ray(dlc_light_project, ray_session):
    _second_video(dlc_light_project)
    folder = str(_videos(dlc_light_project))
    filtered = filterpredictions(str(dlc_light_project), folder, videotype=".mp4", save_as_csv=False)
    skeleton = analyzeskeleton(str(dlc_light_project), folder, filtered=True)
    assert len(filtered) == len(skeleton) == 2
    a, b = (_read(skeleton[v]) for v in sorted(skeleton))
    pd.testing.assert_frame_equal(a, b)  # the same poses give the same bones, whatever task


def test_analyzeskeleton_matches_geometry(dlc_light_project):
    raw = _read(_analysis(dlc_light_project))[DLC_SCORER]
    out = analyzeskeleton(str(dlc_light_project), str(_videos(dlc_light_project)), save_as_csv=True)
    h5 = _analysis(dlc_light_project).with_name(f"{STEM}{DLC_SCORER}_skeleton.h5")
    assert list(out.values()) == [str(h5)] and _is_table(h5)
    bones = _read(h5)
    assert list(bones.columns.get_level_values(0).unique()) == ["snout_leftear", "snout_rightear", "snout_tailbase"]
    assert list(bones.columns.get_level_values(1)[:3]) == ["length", "orientation", "likelihood"]
    dx = raw["tailbase"]["x"] - raw["snout"]["x"]
    dy = raw["tailbase"]["y"] - raw["snout"]["y"]
    np.testing.assert_allclose(bones[("snout_tailbase", "length")], np.hypot(dx, dy), rtol=1e-6)
    np.testing.assert_allclose(bones[("snout_tailbase", "orientation")],
                               np.degrees(np.arctan2(dy, dx)) % 360, rtol=1e-6)
    np.testing.assert_allclose(bones[("snout_tailbase", "likelihood")],
                               np.minimum(raw["snout"]["likelihood"], raw["tailbase"]["likelihood"]))
    assert h5.with_suffix(".csv").exists()


def test_skeleton_needs_bones(dlc_light_project):
    text = dlc_light_project.read_text()
    import yaml

    cfg = yaml.safe_load(text)
    cfg["skeleton"] = []
    dlc_light_project.write_text(yaml.safe_dump(cfg))
    with pytest.raises(PoseringError, match="skeleton is empty"):
        analyzeskeleton(str(dlc_light_project), str(_videos(dlc_light_project)))


def test_missing_analysis_file_is_named(dlc_light_project):
    _analysis(dlc_light_project).unlink()
    with pytest.raises(PoseringError, match="no analysis file here; run analyze_videos"):
        filterpredictions(str(dlc_light_project), str(_videos(dlc_light_project)))


def test_a_failed_video_fails_the_step_after_the_others_finish(dlc_light_project, ray_session, capsys):
    """Every step on analysed videos: the good video's output is written, then VideosFailed
    names the bad one and carries the results; the command line exits with 1."""
    _second_video(dlc_light_project)
    _analysis(dlc_light_project, "second").unlink()  # a video that was never analysed
    config, folder = str(dlc_light_project), str(_videos(dlc_light_project))
    good, bad = str(_videos(dlc_light_project) / f"{STEM}.mp4"), str(_videos(dlc_light_project) / "second.mp4")
    steps = [
        (filterpredictions, {"save_as_csv": False}, lambda out: out),
        (analyzeskeleton, {}, lambda out: out),
        (plot_trajectories, {}, lambda out: out["hist"]),
        (create_labeled_video, {"num_workers": 0}, lambda out: out),
        (extract_outlier_frames, {"automatic": True, "outlieralgorithm": "uncertain", "p_bound": 0.5},
         lambda out: out["machinelabels"]),
    ]
    for step, options, output_of in steps:
        with pytest.raises(VideosFailed) as failed:
            step(config, folder, videotype=".mp4", **options)
        assert list(failed.value.failures) == [bad], step.__name__
        assert "no analysis file here; run analyze_videos" in failed.value.failures[bad]
        assert list(failed.value.results) == [good] and storage.exists(output_of(failed.value.results[good]))
        assert f"{step.__name__}: 1 of 2 videos failed (second.mp4: " in str(failed.value)
    capsys.readouterr()
    assert main(["filterpredictions", config, folder, "--videotype", ".mp4"]) == 1
    out, err = capsys.readouterr()
    assert good in out and f"{STEM}{DLC_SCORER}_filtered.h5" in out  # what finished (or had)
    assert "error: filterpredictions: 1 of 2 videos failed (second.mp4: " in err


def test_command_line_equals_api(dlc_light_project, capsys):
    config, folder = str(dlc_light_project), str(_videos(dlc_light_project))
    h5 = _analysis(dlc_light_project).with_name(f"{STEM}{DLC_SCORER}_filtered.h5")
    filterpredictions(config, folder, windowlength=7, save_as_csv=False)
    api_result = _read(h5)
    assert main(["filterpredictions", config, folder, "--windowlength", "7", "--no-save_as_csv",
                 "--overwrite"]) == 0
    assert str(h5) in capsys.readouterr().out
    pd.testing.assert_frame_equal(_read(h5), api_result)
    assert main(["filterpredictions", config, folder, "--filtertype", "kalman"]) == 1


def _upload(local_root, url):
    for path in local_root.rglob("*"):
        if path.is_file():
            storage.copy(str(path), storage.join(url, str(path.relative_to(local_root))))


def test_steps_on_s3(dlc_light_project, s3, ray_session):
    _second_video(dlc_light_project)
    project = f"{s3}/openfield"
    _upload(dlc_light_project.parent, project)
    config, videos = f"{project}/config.yaml", f"{project}/videos"
    filtered = filterpredictions(config, videos, save_as_csv=False)  # two videos: Ray tasks
    assert sorted(filtered.values()) == [f"{videos}/{stem}{DLC_SCORER}_filtered.h5"
                                         for stem in ("m3v1mp4_clip600", "second")]
    with storage.local_copy(filtered[f"{videos}/second.mp4"]) as local:
        assert len(_read(local)) == 600
    out = f"{s3}/results"
    for name in storage.listdir(videos):
        if name.endswith(".h5"):
            storage.copy(f"{videos}/{name}", f"{out}/{name}")
    skeleton = analyzeskeleton(config, f"{videos}/m3v1mp4_clip600.mp4", destfolder=out, filtered=True)
    assert list(skeleton.values()) == [f"{out}/m3v1mp4_clip600{DLC_SCORER}_skeleton.h5"]
    with storage.local_copy(skeleton[f"{videos}/m3v1mp4_clip600.mp4"]) as local:
        assert _read(local).shape == (600, 9)
    plots = plot_trajectories(config, f"{videos}/second.mp4", filtered=True)
    assert storage.exists(plots[f"{videos}/second.mp4"]["hist"])
    assert plots[f"{videos}/second.mp4"]["hist"] == f"{videos}/plot-poses/second/hist_filtered.png"


def test_plot_trajectories_step(dlc_light_project):
    out = plot_trajectories(str(dlc_light_project), str(_videos(dlc_light_project)), pcutoff=0.05,
                            displayedbodyparts=["snout", "tailbase"])
    files = out[str(_videos(dlc_light_project) / f"{STEM}.mp4")]
    folder = _videos(dlc_light_project) / "plot-poses" / STEM
    assert sorted(files) == ["hist", "plot", "plot-likelihood", "trajectory"]
    assert sorted(p.name for p in folder.iterdir()) == ["hist.png", "plot-likelihood.png", "plot.png",
                                                        "trajectory.png"]
