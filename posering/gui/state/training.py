"""What the Train / Evaluate view shows, in plain Python: the project's shuffles, the live loss
curve from the training's progress bar, the evaluation's results table and images."""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from posering import storage
from posering.errors import PoseringError
from posering.formats.snapshots import snapshot_files
from posering.gui.state.runs import Bar
from posering.project import ProjectConfig, ProjectPaths
from posering.project.paths import LABELED_IMAGES_PREFIX, MODELS_DIR

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass(frozen=True)
class Shuffle:
    number: int
    fraction: float
    trainingsetindex: int
    net_type: str
    trained: bool  # a snapshot is there

    @property
    def label(self) -> str:
        state = "trained" if self.trained else "not trained"
        return f"shuffle {self.number} ({self.net_type}, {int(100 * self.fraction)}%, {state})"


def parse_numbers(text: str, what: str = "shuffles") -> list[int]:
    """``"1, 2"`` or ``"3"`` -> [1, 2] / [3]; PoseringError names the bad part."""
    numbers = []
    for part in re.split(r"[,\s]+", text.strip()):
        if not part:
            continue
        if not part.isdigit() or int(part) < 1:
            raise PoseringError(f"{what}: {part!r} is not a positive whole number (e.g. 1 or 1, 2)")
        numbers.append(int(part))
    if not numbers:
        raise PoseringError(f"{what}: give at least one number, e.g. 1")
    return list(dict.fromkeys(numbers))


def shuffles(config: ProjectConfig) -> list[Shuffle]:
    """The shuffles of the current iteration that have a model folder, by number."""
    paths = ProjectPaths(config)
    found = []
    for index, fraction in enumerate(config.training_fractions):
        folder = storage.join(config.project_path, MODELS_DIR, paths.iteration_name())
        if not storage.isdir(folder):
            continue
        prefix = paths.shuffle_name(fraction, 0)[:-1]  # "<Task><date>-trainset95shuffle"
        for entry in storage.listdir(folder):
            if not entry.startswith(prefix) or not entry[len(prefix):].isdigit():
                continue
            number = int(entry[len(prefix):])
            train_dir = paths.train_dir(fraction, number)
            net_type = "?"
            try:
                model_cfg = yaml.safe_load(storage.read_text(paths.model_config_file(fraction, number))) or {}
                net_type = str(model_cfg.get("net_type", "?"))
            except Exception:  # a folder being written, or not a model: shown with '?'
                pass
            trained = storage.isdir(train_dir) and bool(snapshot_files(train_dir))
            found.append(Shuffle(number, fraction, index, net_type, trained))
    return sorted(found, key=lambda s: (s.trainingsetindex, s.number))


class LossCurve:
    """Training loss against iterations, from the values the training's progress bar shows."""

    def __init__(self, key: str = "loss"):
        self.key = key
        self.points: dict[float, float] = {}

    def add(self, bars: list[Bar]) -> bool:
        """Take the loss of the bars just reported; True if the curve grew."""
        grew = False
        for bar in bars:
            value = bar.number(self.key)
            if value is not None and bar.unit == "it" and self.points.get(bar.n) != value:
                self.points[bar.n] = value
                grew = True
        return grew

    def xy(self) -> tuple[list[float], list[float]]:
        xs = sorted(self.points)
        return xs, [self.points[x] for x in xs]


def results_table(result) -> tuple[list[str], list[list[str]]]:
    """evaluate_network's returned table (as a run hands it back) as header and text rows."""
    frame = (result or {}).get("dataframe") if isinstance(result, dict) else None
    if not frame:
        return [], []
    names = [" / ".join(map(str, c)) if isinstance(c, list) else str(c) for c in frame.get("columns", [])]
    index = frame.get("index", [])
    index_names = ["%Training dataset", "Shuffle", "epochs", "detector epochs", "pcutoff"]
    header = index_names[:len(index[0])] if index and isinstance(index[0], list) else ["row"]
    rows = []
    for key, values in zip(index, frame.get("data", [])):
        keys = key if isinstance(key, list) else [key]
        rows.append([_cell(k) for k in keys] + [_cell(v) for v in values])
    return header + names, rows


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return "" if value is None else str(value)


def evaluation_images(config: ProjectConfig, fraction: float, shuffle: int) -> list[str]:
    """The evaluation images (``LabeledImages_<scorer>/``) of a shuffle, newest snapshot first."""
    folder = ProjectPaths(config).evaluation_folder(fraction, shuffle)
    if not storage.isdir(folder):
        return []
    images = []
    for entry in sorted(storage.listdir(folder), reverse=True):
        sub = storage.join(folder, entry)
        if entry.startswith(LABELED_IMAGES_PREFIX) and storage.isdir(sub):
            images += [storage.join(sub, n) for n in sorted(storage.listdir(sub)) if n.lower().endswith(IMAGE_SUFFIXES)]
    return images
