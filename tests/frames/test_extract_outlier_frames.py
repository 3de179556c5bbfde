"""extract_outlier_frames: injected jumps and low likelihood are found, frames and machine labels
land beside what is there without overwriting it, the prompt, several videos, DeepLabCut's file."""

import io
import os
import shutil

import numpy as np
import pandas as pd
import pytest

from posering import labels
from posering.errors import PoseringError
from posering.frames.extract_outlier_frames import extract_outlier_frames, find_candidates
from posering.post.analysis_files import AnalysisTarget
from posering.project import ProjectConfig
from tests.posed_project import make_posed_project

EPS = 40  # px: above the synthetic mouse's fastest step (24 px), below the injected jumps


@pytest.fixture
def jumpy_project(tmp_path, synthetic_video):
    """The synthetic mouse's true poses (steps up to 24 px) with the snout thrown 80 px off in frames 30 and 80, and
    the right ear unsure (likelihood 0.001) in frames 10-14."""
    video, truth = synthetic_video
    poses = truth.copy()
    poses[[30, 80], 0, 0] += 80
    likelihood = np.full(truth.shape[:2], 0.9)
    likelihood[10:15, 2] = 0.001
    config, project_video, scorer = make_posed_project(str(tmp_path), video, poses, likelihood,
                                                       numframes2pick=4)
    return config, project_video, poses, likelihood, scorer


def _folder(config, stem="mouse"):
    return os.path.join(os.path.dirname(config), "labeled-data", stem)


def _pngs(folder):
    return sorted(n for n in os.listdir(folder) if n.endswith(".png"))


def test_jump_finds_injected_jumps_and_writes_machine_labels(jumpy_project):
    config, video, poses, likelihood, scorer = jumpy_project
    result = extract_outlier_frames(config, video, outlieralgorithm="jump", epsilon=EPS, automatic=True)[video]
    # Thrown off in 30 and back in 31: both steps are jumps (the same for 80).
    assert result["candidates"] == 4 and result["frames"] == [30, 31, 80, 81] and result["added"] == 4
    folder = _folder(config)
    assert _pngs(folder) == ["img030.png", "img031.png", "img080.png", "img081.png"]
    machine = labels.read_labels(os.path.join(folder, "machinelabels-iter0.h5"))
    assert list(machine.columns.get_level_values(2)[:3]) == ["x", "y", "likelihood"]
    assert labels.scorer_of(machine) == scorer
    assert list(machine.index) == [("labeled-data", "mouse", f"img0{i}.png") for i in (30, 31, 80, 81)]
    np.testing.assert_allclose(machine.iloc[0].to_numpy().reshape(4, 3)[:, :2], poses[30])
    np.testing.assert_allclose(machine.iloc[0].to_numpy().reshape(4, 3)[:, 2], likelihood[30])
    csv = pd.read_csv(os.path.join(folder, "machinelabels.csv"), header=[0, 1, 2], index_col=[0, 1, 2])
    np.testing.assert_allclose(csv.to_numpy(), machine.to_numpy())


def test_uncertain_finds_low_likelihood_with_kmeans(jumpy_project):
    config, video, *_ = jumpy_project
    result = extract_outlier_frames(config, video, outlieralgorithm="uncertain", p_bound=0.01,
                                    extractionalgorithm="kmeans", automatic=True)[video]
    assert result["candidates"] == 5
    assert len(result["frames"]) == 4 and set(result["frames"]) <= {10, 11, 12, 13, 14}


def test_existing_frames_are_never_overwritten_nor_taken_again(jumpy_project):
    config, video, *_ = jumpy_project
    folder = _folder(config)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "img030.png"), "wb") as handle:
        handle.write(b"a labeled frame")
    first = extract_outlier_frames(config, video, epsilon=EPS, automatic=True)[video]
    assert first["frames"] == [31, 80, 81]
    with open(os.path.join(folder, "img030.png"), "rb") as handle:
        assert handle.read() == b"a labeled frame"
    machine = os.path.join(folder, "machinelabels-iter0.h5")
    before = labels.read_labels(machine)
    second = extract_outlier_frames(config, video, epsilon=EPS, automatic=True)[video]
    assert second["candidates"] == 4 and second["added"] == 0
    pd.testing.assert_frame_equal(labels.read_labels(machine), before)
    # Another search adds its frames and appends to the machine labels.
    third = extract_outlier_frames(config, video, outlieralgorithm="list", frames2use=[5, 31],
                                   automatic=True)[video]
    assert third["frames"] == [5]
    assert len(labels.read_labels(machine)) == 4


def test_fitting_finds_frames_off_the_fit(jumpy_project, ray_session):
    config, video, *_, scorer = jumpy_project
    search = dict(outlieralgorithm="fitting", comparisonbodyparts="all", epsilon=15, p_bound=0.01,
                  ARdegree=3, MAdegree=1, alpha=0.01, start=0.0, stop=1.0, numframes2pick=4, frames2use=None)
    candidates = find_candidates(AnalysisTarget(video, scorer), search)
    assert {30, 80} <= set(candidates)  # the snout is 80 px off the fit: 20 px on the 4-point mean
    result = extract_outlier_frames(config, video, outlieralgorithm="fitting", epsilon=15,
                                    extractionalgorithm="uniform", automatic=True)[video]
    assert result["candidates"] == len(candidates) and result["added"] == 4


def test_prompt_on_a_terminal(jumpy_project, monkeypatch):
    config, video, *_ = jumpy_project

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stdin", Terminal())
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    result = extract_outlier_frames(config, video, epsilon=EPS)[video]
    assert result == {"candidates": 4, "added": 0, "frames": [], "skipped": True}
    assert not os.path.exists(_folder(config)) or not _pngs(_folder(config))
    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    assert extract_outlier_frames(config, video, epsilon=EPS)[video]["added"] == 4


def test_new_videos_in_parallel_and_added_to_config(jumpy_project, ray_session, tmp_path):
    config, video, poses, likelihood, scorer = jumpy_project
    elsewhere = tmp_path / "more"
    elsewhere.mkdir()
    for stem in ("day1", "day2"):
        shutil.copy(video, elsewhere / f"{stem}.mp4")
        shutil.copy(video.rsplit(".", 1)[0] + scorer + ".h5", elsewhere / f"{stem}{scorer}.h5")
    results = extract_outlier_frames(config, str(elsewhere), epsilon=EPS, automatic=True, savelabeled=True)
    assert sorted(results) == [str(elsewhere / "day1.mp4"), str(elsewhere / "day2.mp4")]
    assert all(r["frames"] == [30, 31, 80, 81] for r in results.values())
    video_sets = ProjectConfig.load(config).video_sets
    assert video_sets[str(elsewhere / "day2.mp4")] == {"crop": "0, 320, 0, 240"}
    drawn = os.path.join(os.path.dirname(config), "labeled-data", "day1_outliers_labeled")
    assert _pngs(drawn) == ["img030.png", "img031.png", "img080.png", "img081.png"]


def test_refused_arguments(jumpy_project):
    config, video, *_ = jumpy_project
    with pytest.raises(PoseringError, match="outlieralgorithm='far'"):
        extract_outlier_frames(config, video, outlieralgorithm="far")
    with pytest.raises(PoseringError, match="needs frames2use"):
        extract_outlier_frames(config, video, outlieralgorithm="list", automatic=True)


def test_deeplabcut_analysis_file(dlc3_project):
    analysis = dlc3_project.parent.parent / "dlc3" / "dlc3-openfield-resnet50" / "analysis-full"
    video = dlc3_project.parent / "videos" / "m3v1mp4_clip600.mp4"
    result = extract_outlier_frames(str(dlc3_project), str(video), outlieralgorithm="jump", epsilon=100,
                                    destfolder=str(analysis), automatic=True)[str(video)]
    assert result["candidates"] > 20 and result["added"] == 20  # numframes2pick of the project
    folder = dlc3_project.parent / "labeled-data" / "m3v1mp4_clip600"
    machine = labels.read_labels(str(folder / "machinelabels-iter0.h5"))
    assert len(machine) == 20 and labels.scorer_of(machine) == "DLC_Resnet50_openfieldOct30shuffle1_snapshot_best-10"
    assert ProjectConfig.load(str(dlc3_project)).video_sets[str(video)] == {"crop": "0, 640, 0, 480"}
