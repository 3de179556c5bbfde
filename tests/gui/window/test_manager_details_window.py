"""The project manager's smaller promises in the real window: the skeleton built by clicking
bodyparts, a failed run's one line with its details a click away, Cancel, and closing while a run
is going."""

from __future__ import annotations

import time

import dearpygui.dearpygui as dpg
import pytest

from posering.errors import PoseringError
from posering.gui.state.runs import Call
from posering.project import ProjectConfig
from tests.gui.window.shots import shoot, shots_folder

pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.PerformanceWarning")


def show(pilot, title: str):
    pilot.click_item(f"app.nav.{title}")
    assert pilot.app.current.title == title
    return pilot.app.current


def frames_until(pilot, condition, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        pilot.frames(1)
        time.sleep(1 / 60)


def test_skeleton_built_by_right_clicking_two_bodyparts(pilot, openfield_project, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "settings"))
    assert pilot.app.open_project(str(openfield_project))
    view = show(pilot, "Project")
    dpg.set_value("project.tabs", "project.tab.skeleton")
    pilot.frames(4)
    skeleton = view.skeleton
    example = skeleton.example
    assert example is not None and "labeled-data/m4s1/" in example.image
    parts = skeleton.builder.bodyparts
    snout, tailbase = example.points[parts.index("snout")], example.points[parts.index("tailbase")]
    pilot.click(skeleton.plot, *snout, button="right")
    assert "now click" in dpg.get_value("project.skeleton_state")
    pilot.click(skeleton.plot, *tailbase, button="right")
    assert dpg.get_value("project.skeleton_state") == "connected snout - tailbase"
    assert "*" in dpg.get_item_label("project.skeleton_save")
    assert view.unsaved() == "the skeleton"
    shoot(pilot, shots_folder(tmp_path), "project-skeleton")
    pilot.click_item("project.part.1")  # the names on the left work too: leftear ...
    pilot.click_item("project.part.2")  # ... to rightear
    pilot.click_item("project.skeleton_save")
    assert ProjectConfig.load(str(openfield_project)).skeleton == [["snout", "tailbase"], ["leftear", "rightear"]]
    assert view.unsaved() is None


def test_a_failed_run_shows_the_command_lines_line_and_details_one_click_away(pilot, tmp_path):
    from posering.project.create_new_project import create_new_project

    missing = str(tmp_path / "no-such-video.mp4")
    with pytest.raises(PoseringError) as expected:  # what `posering create_new_project` prints
        create_new_project("mouse", "Ada", [missing], working_directory=str(tmp_path))
    view = show(pilot, "Project")
    dpg.set_value("project.tabs", "project.tab.start")
    for tag, value in (("project.name", "mouse"), ("project.experimenter", "Ada"), ("project.videos", missing),
                       ("project.workdir", str(tmp_path))):
        dpg.set_value(tag, value)
    pilot.click_item("project.create")
    frames_until(pilot, lambda: not view.create_panel.busy)
    pilot.frames(2)
    assert dpg.get_value("app.status") == f"create project mouse failed: {expected.value}"
    assert dpg.get_value("project.create_run.line") == f"create project mouse failed: {expected.value}"
    pilot.click_item("project.create_run.details")
    assert dpg.is_item_shown("app.details")
    details = dpg.get_value("app.details.text")
    assert "Traceback" in details and "create_new_project" in details and str(expected.value) in details
    shoot(pilot, shots_folder(tmp_path), "run-details")
    pilot.click_item(dpg.get_item_children("app.details", 1)[0])  # its Close button
    assert not dpg.is_item_shown("app.details")


def test_cancel_and_closing_while_a_run_goes(pilot, tmp_path):
    view = show(pilot, "Project")
    dpg.set_value("project.tabs", "project.tab.start")
    marker = tmp_path / "unwound"
    counting = Call("count", "tests.gui.steps:counting", {"n": 100000, "seconds": 0.01, "marker": str(marker)})
    run = view.create_panel.start("count", [counting])
    frames_until(pilot, lambda: run.bars and run.bars[0].n > 3)
    pilot.frames(2)
    assert 0 < dpg.get_value("project.create_run.bar") < 1  # the progress is shown
    assert "counting" in dpg.get_value("project.create_run.line")
    pilot.click_item("project.create_run.cancel")
    frames_until(pilot, lambda: not run.active, timeout=30)
    assert run.state == "cancelled" and marker.read_text() == "unwound"
    assert "cancelled" in dpg.get_value("project.create_run.line")

    run = view.create_panel.start("count", [counting])
    frames_until(pilot, lambda: run.state == "running")
    pilot.app.request_close()  # the window's close button
    pilot.frames(2)
    assert pilot.app.prompt_choices() == ["Stop and close", "Keep running"]
    assert "Still running" in dpg.get_value("app.prompt.text")
    pilot.app.choose("Keep running")
    pilot.frames(2)
    assert not pilot.app.closed and run.active
    pilot.app.request_close()
    pilot.frames(2)
    pilot.app.choose("Stop and close")
    assert pilot.app.closed
    end = time.monotonic() + 30
    while run.active and time.monotonic() < end:  # the frame loop has stopped; drain as destroy would
        pilot.app.tasks.drain()
        time.sleep(0.05)
    assert run.state == "cancelled"
    assert run._process.wait(timeout=10) is not None  # the child is gone


def test_open_a_project_in_a_bucket_by_its_url(pilot, s3, synthetic_video, tmp_path, monkeypatch):
    from posering import storage
    from posering.project.create_new_project import create_new_project

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "settings"))
    config = create_new_project("mouse", "Ada", [synthetic_video[0]], working_directory=f"{s3}/lab", copy_videos=True)
    folder = config.rsplit("/", 1)[0]
    view = show(pilot, "Project")
    dpg.set_value("project.tabs", "project.tab.start")
    dpg.set_value("project.open_path", folder)  # typed: the project's folder in the bucket
    pilot.click_item("project.open")
    assert pilot.app.config is not None and pilot.app.config.location == config
    assert dpg.get_value("project.videos_title") == f"1 video in {folder.rsplit('/', 1)[-1]}"
    assert storage.name(pilot.app.config.video_sets and next(iter(pilot.app.config.video_sets))) == "mouse.mp4"
    dpg.set_value("project.tabs", "project.tab.settings")
    pilot.frames(2)
    view.settings.edit("dotsize", "7")
    pilot.click_item("project.form.save")
    assert ProjectConfig.load(config)["dotsize"] == 7  # written to the bucket
    from posering.gui.state import recent

    assert recent.load()[0] == config
