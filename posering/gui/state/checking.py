"""Checking labels (DeepLabCut step E): the images :func:`posering.check_labels` draws, one by one."""

from __future__ import annotations

from posering import storage
from posering.formats import labels
from posering.gui.state.cursor import FrameCursor
from posering.gui.state.labeling import IMAGE_SUFFIXES, labeled_folders
from posering.project import ProjectPaths, load_config


class CheckBrowser(FrameCursor):
    """The drawn images of one labeled-data folder (``labeled-data/<video>_labeled/``)."""

    def __init__(self, config, video: str):
        self.config = load_config(config)
        self.stem = storage.stem(video)
        self.folder = ProjectPaths(self.config).checked_labels_folder(self.stem)
        self.frame = 0
        self.reload()

    def reload(self) -> None:
        """Read the folder again (after check_labels ran), staying on the same image if it is there."""
        current = self.names[self.frame] if getattr(self, "names", None) else None
        self.names = sorted(n for n in storage.listdir(self.folder) if n.lower().endswith(IMAGE_SUFFIXES))
        self.frame = self.names.index(current) if current in self.names else 0

    @property
    def nframes(self) -> int:
        return len(self.names)

    @property
    def image(self) -> str | None:
        return storage.join(self.folder, self.names[self.frame]) if self.names else None


def checkable_folders(config) -> list[str]:
    """labeled-data folders that have labels to draw (a CollectedData file)."""
    config = load_config(config)
    paths = ProjectPaths(config)
    return [stem for stem in labeled_folders(config)
            if labels.labels_source(paths.collected_data(stem)) is not None]


def swapped_labels_note(result: dict) -> tuple[str, str, str] | None:
    """From check_labels' result: a status line on left/right pairs that look swapped, and the
    first such frame's video and image name, so the view can show it; None if there are none."""
    suspects = [(stem, s) for stem, entry in (result or {}).items() for s in entry.get("swapped", [])]
    if not suspects:
        return None
    stem, first = suspects[0]
    names = ", ".join(f"{storage.name(s.image)} ({s.left}/{s.right})" for _, s in suspects[:3])
    more = f" and {len(suspects) - 3} more" if len(suspects) > 3 else ""
    count = "1 frame has" if len(suspects) == 1 else f"{len(suspects)} frames have"
    text = (f"{count} a left/right pair on the other side of the body than the other frames, likely "
            f"swapped: {names}{more}. Check them in the Label view.")
    return text, stem, storage.name(first.image)
