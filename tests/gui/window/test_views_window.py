"""Extract by hand, Check and Refine in the real window, with real input."""

import time

import dearpygui.dearpygui as dpg
import numpy as np
import pandas as pd
import pytest

from posering import labels
from posering.frames.images import decode_image
from posering.project import ProjectConfig
from posering.video import VideoReader
from tests.gui.window.shots import shoot, shots_folder
from tests.gui.test_refining_state import HUMAN_ROWS, make_refinable, trim_folder

pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.PerformanceWarning")

H5 = "labeled-data/m4s1/CollectedData_Pranav.h5"
VIDEO = "videos/m3v1mp4.mp4"


def open_view(pilot, project, title):
    assert pilot.app.open_project(str(project))
    pilot.click_item(f"app.nav.{title}")
    assert pilot.app.current.title == title
    pilot.frames(2)
    return pilot.app.current


def drag_slider(pilot, tag, fractions):
    """Press on a slider and drag it through these fractions of its width, then let go."""
    (x, y), (w, h) = dpg.get_item_rect_min(tag), dpg.get_item_rect_size(tag)
    pilot.move(x + 8, y + h / 2)
    pilot.x.button("left", True)
    pilot.frames(1)
    for fraction in fractions:
        pilot.move(x + 8 + (w - 16) * fraction, y + h / 2)
        pilot.frames(2)
    pilot.x.button("left", False)
    pilot.frames(2)


def test_extract_by_hand_scrub_grab_and_crop(pilot, openfield_project):
    root = openfield_project.parent
    view = open_view(pilot, openfield_project, "Extract by hand")
    state = view.state
    assert state.video.name == "m3v1mp4.mp4" and state.nframes == 2330
    previews = []
    original = view.previewed
    view.previewed = lambda result: (previews.append(result[0]), original(result))
    drag_slider(pilot, "extract.slider", [0.2, 0.35, 0.5])
    # The release reaches the view a frame or two after the button goes up, and only then is the
    # exact frame asked for: settle until it is shown (on a fast machine settle alone came first).
    deadline = time.monotonic() + 60
    pilot.settle()
    while not (state.exact and state.shown == state.index) and time.monotonic() < deadline:
        pilot.frames(1)
        pilot.settle()
    index = state.index
    assert 900 < index < 1400 and dpg.get_value("extract.slider") == index
    assert previews, "no preview was shown while the slider moved"
    assert state.exact and state.shown == index  # the exact frame once let go
    pilot.press("Right")
    pilot.settle()
    assert state.index == state.shown == index + 1 and state.exact
    pilot.press("G", ctrl=True)
    pilot.settle()
    name = f"img{index + 1:04d}.png"
    saved = decode_image(str(root / "labeled-data/m3v1mp4" / name))
    with VideoReader(str(root / VIDEO)) as reader:
        np.testing.assert_array_equal(saved, reader.read(index + 1))  # exactly that frame
    config = ProjectConfig.load(str(openfield_project))
    assert any(key.endswith("m3v1mp4.mp4") for key in config.video_sets)  # added to the project
    dpg.set_value("extract.start", 10)
    dpg.set_value("extract.count", 3)
    pilot.click_item("extract.grab_range")
    pilot.settle()
    for frame in (10, 11, 12):
        assert (root / f"labeled-data/m3v1mp4/img{frame:04d}.png").exists()
    assert "4 frames" in dpg.get_value("extract.grabbed")
    # The crop box: shown, its corners dragged, saved to config.yaml, used when grabbing.
    pilot.click_item("extract.edit_crop")
    assert dpg.is_item_shown("extract.crop_rect")
    pilot.drag(view.plot, (-0.5, -0.5), (99.5, 49.5))  # corners sit on pixel edges
    pilot.drag(view.plot, (639.5, 479.5), (399.5, 299.5))
    assert str(state.crop) == "100, 400, 50, 300", state.crop
    pilot.click_item("extract.save_crop")
    pilot.settle()
    key = next(k for k in ProjectConfig.load(str(openfield_project)).video_sets if k.endswith("m3v1mp4.mp4"))
    assert ProjectConfig.load(str(openfield_project)).video_sets[key]["crop"] == "100, 400, 50, 300"
    pilot.click_item("extract.use_crop")
    pilot.press("Home")
    pilot.press("G", ctrl=True)
    pilot.settle()
    assert decode_image(str(root / "labeled-data/m3v1mp4/img0000.png")).shape == (250, 300, 3)
    assert "m3v1mp4" in dpg.get_item_configuration("label.folder")["items"]  # Label lists it now


def test_check_runs_check_labels_and_browses(pilot, openfield_project):
    trim_folder(openfield_project, 12)
    view = open_view(pilot, openfield_project, "Check")
    assert view.browser is not None and view.browser.nframes == 0
    pilot.click_item("check.run")
    pilot.settle(timeout=180)
    assert view.browser.nframes == 12 and "drew 12" in dpg.get_value("app.status")
    pilot.press("Right")
    assert dpg.get_value("check.imagename").startswith("img0001.png")
    pilot.press("End")
    assert dpg.get_value("check.imagename") == "img0011.png   (12 / 12)"
    assert view.plot.image_size == (640, 480)


def test_check_shows_a_frame_whose_left_and_right_labels_look_swapped(pilot, openfield_project, tmp_path):
    trim_folder(openfield_project, 12)
    h5 = openfield_project.parent / "labeled-data/m4s1/CollectedData_Pranav.h5"
    table = labels.read_labels(str(h5))
    scorer = labels.scorer_of(table)
    left, right = table[(scorer, "leftear")].copy(), table[(scorer, "rightear")].copy()
    row = table.index[7]
    table.loc[row, (scorer, "leftear")], table.loc[row, (scorer, "rightear")] = right.loc[row].values, left.loc[row].values
    labels.write_labels(table, str(h5))
    open_view(pilot, openfield_project, "Check")
    pilot.click_item("check.run")
    pilot.settle(timeout=180)
    assert "likely swapped: img0007.png (leftear/rightear)" in dpg.get_value("app.status")
    assert dpg.get_value("check.imagename") == "img0007.png   (8 / 12)"
    shoot(pilot, shots_folder(tmp_path), "check-swapped")


def test_refine_keeps_human_labels_and_merges(pilot, openfield_project):
    # napari-deeplabcut 227: saving machine labels wiped the human labels.
    kept, xy = make_refinable(openfield_project)
    view = open_view(pilot, openfield_project, "Refine")
    s = view.session
    assert s.nframes == 116 and dpg.get_value("refine.threshold") == pytest.approx(0.4)
    pilot.press("End")
    assert s.frame == 115 and s.bodypart == 0 and list(s.kept()) == [False, True, True, True]
    open_theme = view.plot._themes[0][1]
    assert dpg.get_item_theme(view.plot._series[0]) == open_theme  # an open circle
    where = pilot.click(view.plot, 320, 200)  # snout placed: a label now
    assert dpg.get_item_theme(view.plot._series[0]) == view.plot._themes[0][0]  # filled
    pilot.press("Left")
    pilot.press("Down")  # leftear
    pilot.press("Delete")
    pilot.press("S", ctrl=True)
    pilot.frames(2)
    saved = labels.read_labels(str(openfield_project.parent / H5))
    pd.testing.assert_frame_equal(saved.loc[kept.index], kept)  # every human label kept
    rows = labels.points(saved.iloc[HUMAN_ROWS:])
    expected = xy[HUMAN_ROWS:] + 2.0
    expected[:, 0] = np.nan  # snouts below the slider left out
    expected[-1, 0] = where
    expected[-2, 1] = np.nan  # leftear of the image before deleted
    np.testing.assert_array_equal(rows, expected)
    pilot.click_item("refine.merge")
    pilot.settle()
    assert ProjectConfig.load(str(openfield_project)).iteration == 1, dpg.get_value("app.status")
    assert "iteration 1" in dpg.get_value("app.status")
