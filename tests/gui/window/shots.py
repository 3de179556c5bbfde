"""Screenshots for docs/gui.md: written to POSERING_GUI_SCREENSHOTS when set (e.g. docs/img/gui),
else to the test's temporary folder, and checked to hold a drawn window."""

from __future__ import annotations

import os
from pathlib import Path

import cv2


def shots_folder(tmp_path: Path) -> Path:
    return Path(os.environ.get("POSERING_GUI_SCREENSHOTS") or tmp_path / "shots")


def shoot(pilot, folder: Path, name: str) -> Path:
    pilot.frames(4)
    path = folder / f"{name}.png"
    if path.exists():
        path.unlink()
    pilot.screenshot(path)
    image = cv2.imread(str(path))
    assert image is not None and image.std() > 10, f"{path}: not a drawn window"
    return path
