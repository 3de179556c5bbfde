"""What clicks, keys and drags do to points, and undo/redo, without a screen."""

import numpy as np
import pytest

from posering.gui.state.editing import PointEditor
from posering.gui.state.keymap import APP_KEYS, CHECK_KEYS, EXTRACT_KEYS, LABEL_KEYS, REFINE_KEYS, action_for

NAN = np.nan


def editor(nframes=3, nbodyparts=3):
    return PointEditor([f"labeled-data/v/img{i}.png" for i in range(nframes)],
                       [f"bp{k}" for k in range(nbodyparts)], np.full((nframes, nbodyparts, 2), NAN))


def test_place_advances_to_the_next_unplaced_bodypart():
    e = editor()
    e.place(1, 2)
    assert e.point(0) == (1, 2) and e.bodypart == 1
    e.select(2)
    e.place(5, 6)
    assert e.bodypart == 1  # wraps around to the one still unplaced
    e.place(3, 4)
    assert e.placed().all() and e.bodypart == 1  # all placed: stays
    e.place(7, 8)  # placing a placed bodypart moves it
    assert e.point(1) == (7, 8)


def test_move_remove_nearest_and_copy_previous():
    e = editor()
    e.place(10, 10)
    e.place(50, 50)
    e.move(0, 12, 11)
    assert e.point(0) == (12, 11)
    assert e.nearest(48, 49, within=5) == 1 and e.nearest(30, 30, within=5) is None
    assert e.remove(1) and e.point(1) is None and not e.remove(1)
    e.next_frame()
    e.select(0)
    e.place(99, 99)  # bp0 placed here: copy must not overwrite it
    assert e.copy_previous() == 0 and e.point(0) == (99, 99)
    e.first_frame()
    e.select(1)
    e.place(30, 31)  # bp1 back on frame 0
    e.next_frame()
    assert e.copy_previous() == 1
    assert e.point(0) == (99, 99) and e.point(1) == (30, 31) and e.point(2) is None


def test_undo_redo_are_exact_and_show_where_it_happened():
    e = editor()
    e.place(1, 1)
    e.place(2, 2)
    e.next_frame()
    e.place(3, 3)
    e.move(0, 4, 4)
    e.prev_frame()
    e.remove(0)
    after = e.points.copy()
    steps = 0
    while e.undo():
        steps += 1
    assert steps == 5 and np.isnan(e.points).all()
    assert e.frame == 0 and e.bodypart == 0
    while e.redo():
        pass
    np.testing.assert_array_equal(e.points, after)
    assert e.frame == 0  # the last step (remove) happened on frame 0
    e.undo()
    e.place(9, 9)  # a new edit after undo drops the redo history
    assert not e.can_redo


def test_navigation_and_restriction_to_new_bodyparts():
    e = editor(nframes=4)
    for f in range(4):
        e.goto(f)
        for k in range(3):
            if (f, k) != (2, 1):
                e.points[f, k] = (f, k)
    e.goto(0)
    assert e.next_incomplete() and e.frame == 2 and e.bodypart == 1
    assert not e.goto(2) and e.goto(99) and e.frame == 3
    e.restrict([2])
    assert e.bodypart == 2
    e.next_bodypart()
    assert e.bodypart == 2  # only one bodypart in navigation
    e.points[:, 2] = NAN
    e.goto(0)
    e.next_incomplete()
    assert e.frame == 1  # every image now lacks bp2
    e.restrict(None)
    assert e.active == [0, 1, 2]


def test_every_key_is_bound_to_an_action_that_exists():
    from posering.gui.state.labeling import LabelingSession

    view_actions = {"remove_selected", "copy_previous", "save", "toggle_help", "open_project"}
    for binding in LABEL_KEYS + REFINE_KEYS + APP_KEYS:
        assert binding.action in view_actions or hasattr(LabelingSession, binding.action), binding
    labels = [b.label for b in LABEL_KEYS]
    for key in ("Left", "Right", "Up", "Down", "Delete", "Backspace", "Ctrl+C", "Ctrl+S", "Ctrl+Z",
                "Ctrl+Y", "Shift+Right", "Home", "End"):
        assert key in labels, key  # exactly the keys the issue lists
    assert action_for(LABEL_KEYS, "Right", shift=True) == "next_incomplete"
    assert action_for(LABEL_KEYS, "Right") == "next_frame"
    assert action_for(LABEL_KEYS, "Q") is None
    assert {b.action for b in CHECK_KEYS} <= {"next_frame", "prev_frame", "first_frame", "last_frame"}
    assert action_for(EXTRACT_KEYS, "G", ctrl=True) == "grab_frame"


def test_shape_is_checked():
    with pytest.raises(ValueError):
        PointEditor(["a"], ["b"], np.zeros((2, 1, 2)))
