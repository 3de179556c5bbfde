"""The Label view in the real window, driven by real key presses and mouse clicks (XTEST):
labels land in the .h5 exactly, and the data-loss scenarios of other tools do not happen here."""


import dearpygui.dearpygui as dpg
import numpy as np
import pandas as pd
import pytest

from posering import labels
from posering.gui.state.labeling import LabelingSession
from posering.project import ProjectConfig

pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.PerformanceWarning")

H5 = "labeled-data/m4s1/CollectedData_Pranav.h5"
ROW = "labeled-data/m4s1/img{:04d}.png"


def h5(project) -> pd.DataFrame:
    return labels.read_labels(str(project.parent / H5))


def open_label_view(pilot, project):
    assert pilot.app.open_project(str(project))
    pilot.click_item("app.nav.Label")  # the window starts on the Project view
    pilot.frames(3)
    view = pilot.app.view("Label")
    assert pilot.app.current is view and view.session is not None
    return view, view.session


def set_cell(table, frame, bodypart, xy):
    table.loc[ROW.format(frame), ("Pranav", bodypart, "x")] = xy[0]
    table.loc[ROW.format(frame), ("Pranav", bodypart, "y")] = xy[1]


def test_label_with_mouse_and_keys_and_save_exactly(pilot, openfield_project):
    before = h5(openfield_project)
    view, s = open_label_view(pilot, openfield_project)
    # The view shows the file's labels, as they are (napari-deeplabcut 161: loading config.yaml
    # before the labels erased them).
    np.testing.assert_array_equal(s.points, labels.points(before))
    pilot.press("Right")
    assert (s.frame, s.bodypart) == (1, 0)
    pilot.press("Delete")  # snout unplaced
    snout = pilot.click(view.plot, 200, 150)  # right-click places it, selection moves on
    assert s.point(0) == snout and abs(snout[0] - 200) < 2 and abs(snout[1] - 150) < 2
    pilot.press("Down")
    assert s.bodypart == 1
    pilot.press("Backspace")
    leftear = pilot.click(view.plot, 230, 170)
    pilot.press("Right")  # frame change: autosaved
    pilot.settle()
    saved = h5(openfield_project)
    expected = before.copy()
    set_cell(expected, 1, "snout", snout)
    set_cell(expected, 1, "leftear", leftear)
    pd.testing.assert_frame_equal(saved, expected)
    assert s.frame == 2
    tailbase = s.point(3)
    pilot.drag(view.plot, tailbase, (300, 250))  # left-drag moves a point
    moved = s.point(3)
    assert np.hypot(moved[0] - 300, moved[1] - 250) < 3
    pilot.click(view.plot, 300, 250, "middle")  # middle-click removes the nearest: tailbase
    assert s.point(3) is None
    pilot.press("End")
    assert s.frame == 115
    pilot.press("Home")
    pilot.press("S", ctrl=True)
    pilot.settle()
    set_cell(expected, 2, "tailbase", (np.nan, np.nan))
    pd.testing.assert_frame_equal(h5(openfield_project), expected)
    assert "saved" in dpg.get_value("label.state")


def test_undo_redo_with_keys(pilot, openfield_project):
    before = h5(openfield_project)
    view, s = open_label_view(pilot, openfield_project)
    pilot.press("Right")
    pilot.press("Right")
    original = s.points.copy()
    pilot.press("Delete")
    placed = pilot.click(view.plot, 100, 100)
    pilot.drag(view.plot, placed, (150, 120))
    edited = s.points.copy()
    for _ in range(3):
        pilot.press("Z", ctrl=True)
    np.testing.assert_array_equal(s.points, original)
    assert not s.dirty
    for _ in range(3):
        pilot.press("Y", ctrl=True)
    np.testing.assert_array_equal(s.points, edited)
    pilot.press("Z", ctrl=True)  # back to the placed (not dragged) position, then save
    pilot.press("S", ctrl=True)
    pilot.settle()
    expected = before.copy()
    set_cell(expected, 2, "snout", placed)
    pd.testing.assert_frame_equal(h5(openfield_project), expected)


def test_new_bodypart_unplaced_and_removed_bodypart_kept(pilot, openfield_project):
    before = h5(openfield_project)
    config = ProjectConfig.load(str(openfield_project))
    config["bodyparts"] = ["snout", "leftear", "tailtip", "tailbase"]  # rightear gone, tailtip new
    config.save()
    view, s = open_label_view(pilot, openfield_project)
    assert dpg.is_item_shown("label.only_new") and "rightear" in dpg.get_value("label.kept")
    assert np.isnan(s.points[:, 2]).all()
    pilot.click_item("label.only_new")  # navigation over the new bodypart only
    assert dpg.get_value("label.only_new") and s.bodypart == 2
    first = pilot.click(view.plot, 320, 240)
    pilot.press("Right", shift=True)  # the next image where tailtip is unplaced
    assert s.frame == 1 and s.bodypart == 2
    second = pilot.click(view.plot, 330, 250)
    pilot.press("S", ctrl=True)
    pilot.settle()
    saved = h5(openfield_project)
    pd.testing.assert_frame_equal(saved[before.columns], before)  # rightear and all else kept
    assert tuple(saved.loc[ROW.format(0), ("Pranav", "tailtip")]) == first
    assert tuple(saved.loc[ROW.format(1), ("Pranav", "tailtip")]) == second
    assert saved[("Pranav", "tailtip", "x")].notna().sum() == 2


def test_deleted_label_stays_deleted_after_save_and_reopening(pilot, openfield_project):
    # napari-deeplabcut 221: a deleted label came back after saving.
    view, s = open_label_view(pilot, openfield_project)
    pilot.press("End")
    pilot.press("Up")  # tailbase
    pilot.press("Delete")
    pilot.press("Left")  # autosave on the frame change
    pilot.settle()
    pilot.press("Right")
    assert s.point(3) is None
    assert np.isnan(h5(openfield_project).loc[ROW.format(115), ("Pranav", "tailbase")]).all()
    pilot.restart()
    view, s = open_label_view(pilot, openfield_project)
    assert (s.frame, s.bodypart) == (115, 3)  # resumed where the user was
    assert s.point(3, frame=115) is None


def test_failed_save_is_not_called_saved_and_close_asks(pilot, openfield_project):
    # DeepLabCut 2259: the tool said "saved" but nothing was written.
    csv = openfield_project.parent / H5.replace(".h5", ".csv")
    csv.unlink()
    csv.mkdir()  # the .csv twin cannot be written
    view, s = open_label_view(pilot, openfield_project)
    pilot.press("Delete")
    pilot.press("S", ctrl=True)
    pilot.settle()
    assert dpg.get_value("label.state").startswith("not saved") and s.dirty
    pilot.app.request_close()  # the window's close button
    pilot.frames(2)
    assert pilot.app.prompt_choices() == ["Save and close", "Close without saving", "Cancel"]
    assert "unsaved" in dpg.get_value("app.prompt.text").lower()
    pilot.click_item(dpg.get_item_children("app.prompt.buttons", 1)[0])  # Save and close: fails
    pilot.settle()
    assert not pilot.app.closed and "fail" in dpg.get_value("app.status")
    csv.rmdir()
    pilot.app.request_close()
    pilot.frames(2)
    pilot.app.choose("Save and close")
    assert pilot.app.closed
    assert np.isnan(h5(openfield_project).loc[ROW.format(0), ("Pranav", "snout")]).all()


def test_close_without_saving_and_cancel(pilot, openfield_project):
    before = h5(openfield_project)
    view, s = open_label_view(pilot, openfield_project)
    pilot.click(view.plot, 50, 60)  # moves the selected bodypart: unsaved (same image)
    pilot.app.request_close()
    pilot.frames(2)
    pilot.app.choose("Cancel")
    assert not pilot.app.closed and s.dirty
    pilot.press("Escape")
    pilot.app.request_close()
    pilot.frames(2)
    pilot.app.choose("Close without saving")
    assert pilot.app.closed
    pd.testing.assert_frame_equal(h5(openfield_project), before)


def test_a_second_window_saving_the_same_points_is_not_overwritten(pilot, openfield_project):
    view, s = open_label_view(pilot, openfield_project)
    other = LabelingSession(str(openfield_project), "m4s1")  # what a second window holds
    pilot.press("Right")
    mine = pilot.click(view.plot, 100, 200)  # snout of image 1, here
    other.goto(1)
    other.select(0)
    other.place(400.0, 300.0)  # the same point, there
    other.goto(2)
    other.select(1)
    other.place(55.0, 66.0)  # and another one only there
    assert other.save().written
    pilot.press("S", ctrl=True)
    pilot.settle()
    assert pilot.app.prompt_choices() == ["Keep mine", "Take theirs", "Decide later"]
    saved = h5(openfield_project)
    assert tuple(saved.loc[ROW.format(1), ("Pranav", "snout")]) == (400.0, 300.0)  # nothing overwritten
    assert s.point(1, frame=2) != (55.0, 66.0) and s.dirty
    pilot.click_item(dpg.get_item_children("app.prompt.buttons", 1)[0])  # Keep mine
    pilot.settle()
    saved = h5(openfield_project)
    assert tuple(saved.loc[ROW.format(1), ("Pranav", "snout")]) == mine
    assert tuple(saved.loc[ROW.format(2), ("Pranav", "leftear")]) == (55.0, 66.0)  # theirs kept
    assert s.point(1, frame=2) == (55.0, 66.0) and not s.dirty  # and shown here


def test_hover_names_a_point_and_the_marker_slider_resizes(pilot, openfield_project):
    view, s = open_label_view(pilot, openfield_project)
    pilot.hover(view.plot, *s.point(3))
    pilot.frames(2)
    assert dpg.is_item_shown("label.hover") and dpg.get_item_label("label.hover") == "tailbase"
    pilot.hover(view.plot, 600, 40)
    pilot.frames(1)
    assert not dpg.is_item_shown("label.hover")
    assert view.plot.marker_size == float(ProjectConfig.load(str(openfield_project))["dotsize"])
    dpg.set_value("label.marker", 20)
    dpg.get_item_callback("label.marker")("label.marker", 20)
    assert view.plot.marker_size == 20
    pilot.press("F1")
    assert dpg.is_item_shown("app.help")
    pilot.press("F1")
    tailbase = s.point(3)
    for where in (tailbase, (tailbase[0] + 60, tailbase[1])):  # on a point's handle, and beside
        low, high = dpg.get_axis_limits("label.x")
        pilot.zoom(view.plot, *where, clicks=2)
        pilot.frames(2)
        new_low, new_high = dpg.get_axis_limits("label.x")
        assert new_high - new_low < 0.9 * (high - low) and new_low < where[0] < new_high


def test_zooming_into_a_large_frame_shows_its_full_size_pixels(pilot, openfield_project):
    import cv2

    folder = openfield_project.parent / "labeled-data" / "big"
    folder.mkdir()
    frame = cv2.imread(str(openfield_project.parent / "labeled-data/m4s1/img0000.png"))
    for i in range(2):
        cv2.imwrite(str(folder / f"img{i}.png"), cv2.resize(frame, (2048, 2048)))
    view, s = open_label_view(pilot, openfield_project)
    view.open_folder("big")
    pilot.frames(4)
    assert view.plot._display.texture_size[0] < 2048 and not dpg.is_item_shown("label.detail")
    pilot.zoom(view.plot, 1000, 1000, clicks=12)
    pilot.frames(5)
    assert dpg.is_item_shown("label.detail")  # the visible part at full size
    pilot.press("Right")
    assert not dpg.is_item_shown("label.detail")  # a new frame: shrunk again until the view rests
