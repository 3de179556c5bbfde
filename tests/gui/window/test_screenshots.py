"""Screenshots of every view, taken from the real window (the ones in docs/gui.md).

Written to a temporary folder, or to ``POSERING_GUI_SCREENSHOTS`` when set:
``POSERING_GUI_SCREENSHOTS=docs/img/gui POSERING_GUI_WINDOW=1 python3 -m pytest tests/gui/window/test_screenshots.py``
"""

import os
from pathlib import Path

import cv2
import dearpygui.dearpygui as dpg
import numpy as np

from tests.gui.test_refining_state import make_refinable, trim_folder
from tests.gui.window.conftest import HEIGHT, WIDTH


def shot(pilot, folder: Path, name: str) -> np.ndarray:
    path = folder / f"{name}.png"
    if path.exists():
        path.unlink()
    pilot.frames(3)
    pilot.screenshot(path)
    image = cv2.imread(str(path))
    assert image is not None and image.shape[:2] == (HEIGHT, WIDTH), name
    return image


def assert_shows_an_image(image: np.ndarray, name: str) -> None:
    """The plot area (right of the panels) holds a picture, not an empty frame."""
    area = image[120:HEIGHT - 120, 600:WIDTH - 60]
    assert area.std() > 20, f"{name}: the image area looks empty"


def test_screenshots_of_every_view(pilot, openfield_project, tmp_path):
    folder = Path(os.environ.get("POSERING_GUI_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    trim_folder(openfield_project, 30)  # check_labels draws 20 images, not 100
    make_refinable(openfield_project, human_rows=20)
    app = pilot.app
    assert app.open_project(str(openfield_project))
    pilot.click_item("app.nav.Label")  # the window starts on the Project view
    pilot.frames(3)

    label = app.view("Label")
    pilot.press("Right")
    pilot.press("Right")
    pilot.zoom(label.plot, *label.session.point(3), clicks=3)
    pilot.hover(label.plot, *label.session.point(3))  # the bodypart's name on hover
    image = shot(pilot, folder, "label")
    assert_shows_an_image(image, "label")
    pilot.press("F1")
    shot(pilot, folder, "keys")
    pilot.press("F1")

    pilot.click_item("app.nav.Extract by hand")
    pilot.settle()
    pilot.press("End")
    pilot.settle()
    pilot.click_item("extract.edit_crop")
    pilot.drag(app.current.plot, (-0.5, -0.5), (39.5, 19.5))  # the crop box's corner
    assert str(app.current.state.crop) == "40, 640, 20, 480"
    assert_shows_an_image(shot(pilot, folder, "extract"), "extract")

    pilot.click_item("app.nav.Check")
    pilot.click_item("check.run")
    pilot.settle(timeout=180)
    pilot.press("Right")
    assert_shows_an_image(shot(pilot, folder, "check"), "check")

    pilot.click_item("app.nav.Refine")
    refine = app.current
    pilot.press("End")
    pilot.press("Left")
    pilot.press("Down")  # the selection ring on leftear, the snout's open circle in sight
    dpg.set_value("refine.marker", 12)
    dpg.get_item_callback("refine.marker")("refine.marker", 12)
    assert not refine.session.kept()[0]  # an open circle on this one
    pilot.zoom(refine.plot, *refine.session.point(0), clicks=4)
    assert_shows_an_image(shot(pilot, folder, "refine"), "refine")

    pilot.click_item("app.nav.Label")
    pilot.click(label.plot, 320, 240)
    app.request_close()
    image = shot(pilot, folder, "close")
    assert app.prompt_choices() == ["Save and close", "Close without saving", "Cancel"]
    app.choose("Cancel")
    assert dpg.is_item_shown("app.main")
