"""The Jobs view against a real local Ray head (started here on free ports, token authentication
on, as Ray 2.60 starts clusters): submit an analyze job through ``posering submit``, watch it
finish in the list with its log, and stop a second one."""

from __future__ import annotations

import time

import dearpygui.dearpygui as dpg
import pytest

from posering.gui.state.runs import Call, Run
from tests.gui.window.shots import shoot, shots_folder

pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.PerformanceWarning")


def frames_until(pilot, condition, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        pilot.frames(1)
        time.sleep(1 / 30)


@pytest.fixture
def cluster():
    pytest.importorskip("posering.cluster.commands", reason="posering.cluster (posering submit) is not here")
    ray_cluster = pytest.importorskip("tests.cluster.ray_cluster",
                                      reason="the test cluster helper tests/cluster/ray_cluster.py is not here")
    head = ray_cluster.RayCluster(head_cpus=2)
    yield head
    head.stop()


def test_submit_watch_and_stop_jobs(pilot, cluster, tmp_path, monkeypatch):
    from posering.demo.run import make_demo_project

    monkeypatch.setenv("RAY_AUTH_TOKEN", cluster.token)  # this machine holds the cluster's token
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "settings"))
    config = make_demo_project(str(tmp_path / "demo"), nframes=30, nlabeled=5)
    # An untrained network to analyze with, and a training dataset for a long training job, made
    # in a child process (torch stays out of the window's)
    model = pilot.app.runs.start(Run("model", [
        Call("model", "tests.random_model:install_random_model", {"config_path": config}),
        Call("dataset", "create_training_dataset", {"config": config, "Shuffles": [2],
                                                    "net_type": "mobilenet_v4_small"})]))
    frames_until(pilot, lambda: not model.active, 180, "the model")
    assert model.state == "done", model.details()
    assert pilot.app.open_project(config)
    video = next(iter(pilot.app.config.video_sets))

    view = pilot.app.view("Jobs")
    pilot.click_item("app.nav.Jobs")
    dpg.set_value("jobs.address", cluster.dashboard_url)
    pilot.click_item("jobs.connect")
    frames_until(pilot, lambda: "jobs on" in dpg.get_value("jobs.state"), 60, "the job list")
    assert view.rows == []
    dpg.set_value("jobs.job", "analyze")
    dpg.set_value("jobs.arguments", f"{config} {video} --num_workers 1 --precision fp32")
    pilot.click_item("jobs.submit")
    frames_until(pilot, lambda: not view.panel.busy, 120, "the submission")
    assert view.panel.run.state == "done", view.panel.run.details()
    job_id = view.panel.run.results[0]
    assert view.selected == job_id
    frames_until(pilot, lambda: view.row(job_id) and view.row(job_id).final, 300, "the job to end")
    row = view.row(job_id)
    assert row.status == "SUCCEEDED", dpg.get_value("jobs.logs")
    assert "jobs run analyze" in row.entrypoint
    frames_until(pilot, lambda: dpg.get_value("jobs.logs").strip(), 30, "the job's log")
    assert dpg.get_value("jobs.selected").startswith(f"{job_id}: SUCCEEDED")
    assert not dpg.is_item_shown("jobs.stop")

    dpg.set_value("jobs.job", "train")  # a long training, stopped while it runs
    dpg.set_value("jobs.arguments", f"{config} --shuffle 2 --maxiters 100000 --precision fp32")
    pilot.click_item("jobs.submit")
    frames_until(pilot, lambda: not view.panel.busy, 120, "the second submission")
    assert view.panel.run.state == "done", view.panel.run.details()
    second = view.panel.run.results[0]
    frames_until(pilot, lambda: view.row(second) and view.row(second).status == "RUNNING", 120,
                 "the training job to run")
    frames_until(pilot, lambda: dpg.is_item_shown("jobs.stop"), 30, "its Stop button")
    shoot(pilot, shots_folder(tmp_path), "jobs")
    pilot.click_item("jobs.stop")
    frames_until(pilot, lambda: view.row(second) and view.row(second).final, 120, "the second job to stop")
    assert view.row(second).status == "STOPPED"
    assert [r.job_id for r in view.rows] == [second, job_id]  # newest first
