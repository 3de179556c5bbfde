"""Every key and mouse action of the client, once: the views dispatch from these tables and the
Help panel lists them, so the two cannot disagree.

Keys are named as the window reports them ("Right", "Delete", "S", ...), with Ctrl and Shift as
flags. A view looks an event up with :func:`action_for` and runs the method of that name.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Binding:
    key: str
    action: str
    help: str
    ctrl: bool = False
    shift: bool = False

    @property
    def label(self) -> str:
        return "+".join([*(["Ctrl"] if self.ctrl else []), *(["Shift"] if self.shift else []), self.key])


LABEL_KEYS = [
    Binding("Right", "next_frame", "next image"),
    Binding("Left", "prev_frame", "previous image"),
    Binding("Right", "next_incomplete", "next image with unplaced bodyparts", shift=True),
    Binding("Home", "first_frame", "first image"),
    Binding("End", "last_frame", "last image"),
    Binding("Down", "next_bodypart", "next bodypart"),
    Binding("Up", "prev_bodypart", "previous bodypart"),
    Binding("Delete", "remove_selected", "remove the selected bodypart's point"),
    Binding("Backspace", "remove_selected", "remove the selected bodypart's point"),
    Binding("C", "copy_previous", "copy the previous image's points onto unplaced bodyparts", ctrl=True),
    Binding("S", "save", "save (also saved on every image change and every 30 s)", ctrl=True),
    Binding("Z", "undo", "undo", ctrl=True),
    Binding("Y", "redo", "redo", ctrl=True),
]

LABEL_MOUSE = [
    ("Right-click", "place the selected bodypart, then select the next unplaced one"),
    ("Left-drag a point", "move it"),
    ("Middle-click", "remove the point nearest to the mouse"),
    ("Left-drag elsewhere", "pan; double-click fits the image"),
    ("Wheel", "zoom"),
    ("Hover a point", "shows its bodypart's name"),
]

EXTRACT_KEYS = [
    Binding("Right", "next_frame", "next frame (exact)"),
    Binding("Left", "prev_frame", "previous frame (exact)"),
    Binding("Right", "jump_forward", "one second forward", shift=True),
    Binding("Left", "jump_back", "one second back", shift=True),
    Binding("Home", "first_frame", "first frame"),
    Binding("End", "last_frame", "last frame"),
    Binding("G", "grab_frame", "grab this frame into labeled-data", ctrl=True),
]

EXTRACT_MOUSE = [
    ("Drag the slider", "scrub (nearest keyframe while dragging, the exact frame on release)"),
    ("Drag the crop box's corners", "set the video's crop (then Save crop)"),
]

CHECK_KEYS = [
    Binding("Right", "next_frame", "next image"),
    Binding("Left", "prev_frame", "previous image"),
    Binding("Home", "first_frame", "first image"),
    Binding("End", "last_frame", "last image"),
]

REFINE_KEYS = [
    *[b for b in LABEL_KEYS if b.action != "copy_previous"],
]

REFINE_MOUSE = [
    ("Filled disk", "a human label, or a machine point at or above the likelihood slider"),
    ("Open circle", "a machine point below the slider: not saved unless you move or place it"),
    *LABEL_MOUSE,
]

APP_KEYS = [
    Binding("F1", "toggle_help", "show or hide this help"),
    Binding("O", "open_project", "open a project", ctrl=True),
]


def action_for(bindings: list[Binding], key: str, ctrl: bool = False, shift: bool = False) -> str | None:
    """The action bound to a key with these modifiers, if any."""
    for binding in bindings:
        if binding.key == key and binding.ctrl == ctrl and binding.shift == shift:
            return binding.action
    return None
