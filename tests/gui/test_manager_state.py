"""The project manager's state without a window: the calls its runs make, what it reads back."""

from __future__ import annotations

import numpy as np
import pytest

from posering import labels
from posering.errors import PoseringError
from posering.gui.state import jobs
from posering.gui.state.analysis import AnalysisOptions, analysis_calls, collect_results, expand
from posering.gui.state.project import labeled_example, nearest_bodypart, new_project_arguments, video_rows
from posering.gui.state.runs import Bar
from posering.gui.state.training import LossCurve, parse_numbers, results_table, shuffles
from posering.project import ProjectConfig, ProjectPaths


def test_new_project_arguments_from_the_form():
    arguments = new_project_arguments(" mouse ", "Ada", '"/v/a.mp4"\n\n/v/b.mp4\n', "", True)
    assert arguments == {"project": "mouse", "experimenter": "Ada", "videos": ["/v/a.mp4", "/v/b.mp4"],
                         "working_directory": None, "copy_videos": True}
    with pytest.raises(PoseringError, match="at least one video"):
        new_project_arguments("mouse", "Ada", "  ", "", False)
    with pytest.raises(PoseringError, match="experimenter"):
        new_project_arguments("mouse", "", "/v/a.mp4", "", False)


def test_video_rows_and_the_labeled_example(demo_project):
    config = ProjectConfig.load(demo_project)
    rows = video_rows(config)
    assert [row.name for row in rows] == ["demo-mouse.mp4"] and rows[0].location is not None
    example = labeled_example(config)
    stem = "demo-mouse"
    table = labels.read_labels(ProjectPaths(config).collected_data(stem))
    assert example.image.endswith(labels.image_relpath(table.index[0]).split("/")[-1])
    np.testing.assert_allclose(example.points, labels.points(table, config.bodyparts)[0])
    snout = example.points[0]
    assert nearest_bodypart(example.points, snout[0] + 2, snout[1], within=5) == 0
    assert nearest_bodypart(example.points, -100, -100, within=5) is None


def test_no_labeled_example_before_labeling(tmp_path, synthetic_video):
    from posering.project.create_new_project import create_new_project

    config = ProjectConfig.load(create_new_project("m", "me", [synthetic_video[0]], working_directory=str(tmp_path)))
    assert labeled_example(config) is None


def test_analysis_calls_per_video_in_order(tmp_path):
    options = AnalysisOptions(shuffle=2, trainingsetindex=1, dynamic=True, num_workers=0, filter=True,
                              labeled_video=True, draw_skeleton=True, pcutoff=0.1)
    calls = analysis_calls("/p/config.yaml", ["/v/a.mp4", "/v/b.mp4"], options)
    assert [c.label for c in calls] == ["a.mp4: analyze", "a.mp4: filter", "a.mp4: plot trajectories",
                                        "a.mp4: labeled video", "b.mp4: analyze", "b.mp4: filter",
                                        "b.mp4: plot trajectories", "b.mp4: labeled video"]
    assert calls[0].kwargs == {"config": "/p/config.yaml", "shuffle": 2, "trainingsetindex": 1, "save_as_csv": False,
                               "precision": "auto", "dynamic": [True, 0.5, 10], "num_workers": 0,
                               "videos": ["/v/a.mp4"]}
    assert calls[2].kwargs["filtered"] and calls[3].kwargs["draw_skeleton"] and calls[3].kwargs["pcutoff"] == 0.1
    results = [None, None, {"/v/a.mp4": {"trajectory": "/v/plot-poses/a/trajectory.png"}}, {"/v/a.mp4": "/v/a_labeled.mp4"},
               None, None, {}, {}]
    found = collect_results(calls, results)
    assert found[0].plots == ["/v/plot-poses/a/trajectory.png"] and found[0].labeled_video == "/v/a_labeled.mp4"
    assert found[1].plots == [] and found[1].labeled_video is None


def test_a_folder_is_its_videos(tmp_path, synthetic_video):
    import shutil

    for name in ("a.mp4", "b.avi"):
        shutil.copy(synthetic_video[0], tmp_path / name)
    (tmp_path / "notes.txt").write_text("x")
    assert sorted(expand([str(tmp_path)])) == [str(tmp_path / "a.mp4"), str(tmp_path / "b.avi")]
    with pytest.raises(PoseringError, match="choose at least one video"):
        expand([])


def test_training_state(demo_project):
    from posering.dataset.create_training_dataset import create_training_dataset

    config = ProjectConfig.load(demo_project)
    assert shuffles(config) == []
    create_training_dataset(demo_project, Shuffles=[1, 3], net_type="mobilenet_v4_small")
    found = shuffles(config)
    assert [(s.number, s.net_type, s.trained) for s in found] == [(1, "mobilenet_v4_small", False),
                                                                  (3, "mobilenet_v4_small", False)]
    assert found[0].label == "shuffle 1 (mobilenet_v4_small, 95%, not trained)"
    assert parse_numbers("1, 3 3") == [1, 3]
    with pytest.raises(PoseringError, match="'x'"):
        parse_numbers("1, x")


def test_loss_curve_and_results_table():
    curve = LossCurve()
    bar = lambda n, loss, unit="it": Bar("epoch 1/2", n, 10, 1.0, 2.0, unit, {"loss": loss})  # noqa: E731
    assert curve.add([bar(1, "0.5")]) and curve.add([bar(3, "0.25")])
    assert not curve.add([bar(3, "0.25")]) and not curve.add([bar(4, "0.2", unit="frame")])
    assert curve.xy() == ([1, 3], [0.5, 0.25])
    result = {"dataframe": {"columns": ["train rmse", "test rmse"], "index": [[0.95, 1, 10, -1, 0.6]],
                            "data": [[1.234, 5.0]]}}
    header, rows = results_table(result)
    assert header == ["%Training dataset", "Shuffle", "epochs", "detector epochs", "pcutoff", "train rmse", "test rmse"]
    assert rows == [["0.95", "1", "10", "-1", "0.60", "1.23", "5.00"]]


def test_submit_arguments_are_posering_submits():
    argv = jobs.submit_arguments("analyze", "s3://lab/p/config.yaml 's3://lab/my videos/' --shuffle 2",
                                 "http://head:8265", "AWS_ENDPOINT_URL FOO=1", "")
    assert argv == ["analyze", "s3://lab/p/config.yaml", "s3://lab/my videos/", "--shuffle", "2",
                    "--address", "http://head:8265", "--no-wait", "--env", "AWS_ENDPOINT_URL", "--env", "FOO=1"]
    with pytest.raises(PoseringError, match="address"):
        jobs.submit_arguments("analyze", "x", " ", "", "")
    with pytest.raises(PoseringError, match="quote"):
        jobs.submit_arguments("analyze", "'unclosed", "http://h:8265", "", "")
