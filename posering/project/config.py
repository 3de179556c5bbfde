"""config.yaml: load, validate, save, exactly as DeepLabCut lays it out.

A :class:`ProjectConfig` wraps the YAML mapping. It keeps every key it finds, known or not, so a
DeepLabCut 3 config round-trips with its extra keys. Saving writes the known keys in DeepLabCut's
order with its section comments, then any other keys as they were.

The project root is always the folder that holds ``config.yaml``: a stale ``project_path`` (a
project moved, copied from another machine, or DeepLabCut's demo placeholder) is repaired on load,
because absolute paths in configs break sharing (a common DeepLabCut complaint).
"""

from __future__ import annotations

import difflib
import io
from dataclasses import dataclass
from typing import Any

import yaml

from posering import storage
from posering.errors import ConfigError
from posering.project.paths import CONFIG_FILE

# DeepLabCut's config.yaml, section by section: (comment, keys). Key order is writing order.
SECTIONS: list[tuple[str, list[str]]] = [
    ("Project definitions (do not edit)",
     ["Task", "scorer", "date", "multianimalproject", "identity"]),
    ("Project path (change when moving around)", ["project_path"]),
    ("Default DeepLabCut engine to use for shuffle creation (either pytorch or tensorflow)",
     ["engine"]),
    ("Annotation data set configuration (and individual video cropping parameters)",
     ["video_sets", "bodyparts"]),
    ("Fraction of video to start/stop when extracting frames for labeling/refinement",
     ["start", "stop", "numframes2pick"]),
    ("Plotting configuration",
     ["skeleton", "skeleton_color", "pcutoff", "dotsize", "alphavalue", "colormap"]),
    ("Training,Evaluation and Analysis configuration",
     ["TrainingFraction", "iteration", "default_net_type", "default_augmenter", "snapshotindex",
      "detector_snapshotindex", "batch_size", "detector_batch_size"]),
    ("Cropping Parameters (for analysis and outlier frame detection)",
     ["cropping", "x1", "x2", "y1", "y2"]),
    ("Refinement configuration (parameters from annotation dataset configuration also relevant "
     "in this stage)", ["corner2move2", "move2corner"]),
]
KNOWN_KEYS = [key for _, keys in SECTIONS for key in keys]

# Values create_new_project writes (DeepLabCut's defaults for a single-animal project).
DEFAULTS: dict[str, Any] = {
    "multianimalproject": False,
    "identity": None,
    "engine": "pytorch",
    "bodyparts": ["bodypart1", "bodypart2", "bodypart3", "objectA"],
    "start": 0,
    "stop": 1,
    "numframes2pick": 20,
    "skeleton": [["bodypart1", "bodypart2"], ["objectA", "bodypart3"]],
    "skeleton_color": "black",
    "pcutoff": 0.6,
    "dotsize": 12,
    "alphavalue": 0.7,
    "colormap": "rainbow",
    "TrainingFraction": [0.95],
    "iteration": 0,
    # auto: the backbone and training settings chosen from the labeled frames (model/auto.py).
    "default_net_type": "auto",
    "default_augmenter": "default",
    "snapshotindex": -1,
    "detector_snapshotindex": -1,
    "batch_size": 8,
    "detector_batch_size": 1,
    "cropping": False,
    "x1": 0,
    "x2": 640,
    "y1": 277,
    "y2": 624,
    "corner2move2": [50, 50],
    "move2corner": True,
}
REQUIRED_KEYS = ["Task", "scorer", "date", "video_sets", "bodyparts"]
PLACEHOLDER_PREFIX = "WILL BE AUTOMATICALLY UPDATED"


@dataclass(frozen=True)
class Crop:
    """A crop box in pixels, DeepLabCut's order: x1, x2, y1, y2 (x2/y2 exclusive)."""

    x1: int
    x2: int
    y1: int
    y2: int

    @classmethod
    def parse(cls, text: str | list | tuple, where: str) -> "Crop":
        parts = text.split(",") if isinstance(text, str) else list(text)
        try:
            x1, x2, y1, y2 = (int(float(str(p).strip())) for p in parts)
        except ValueError:
            raise ConfigError(
                f"{where}: crop {text!r} is not four numbers 'x1, x2, y1, y2'") from None
        if x1 < 0 or y1 < 0 or x2 <= x1 or y2 <= y1:
            raise ConfigError(f"{where}: crop {text!r} needs 0 <= x1 < x2 and 0 <= y1 < y2")
        return cls(x1, x2, y1, y2)

    def __str__(self) -> str:
        return f"{self.x1}, {self.x2}, {self.y1}, {self.y2}"

    @property
    def width(self) -> int:
        return self.x2 - self.x1

    @property
    def height(self) -> int:
        return self.y2 - self.y1


def yaml_error_line(exc: yaml.YAMLError, text: str) -> int | None:
    """The 1-based line a person must fix for a PyYAML error in ``text`` (None: PyYAML gives no place).

    PyYAML's marks count lines from 0, and its ``problem_mark`` is where it noticed the problem.
    For a construct left open (a ``[``, ``{`` or quote never closed) that is a later line or the
    end of the file; the line to fix is where the construct began, its ``context_mark``. A line
    that lost its ``:`` is read as the continuation of the value above it until the ``:`` of the
    next key, at the line's start, is refused; the line to fix is then the one just before.
    Otherwise (an indented or misplaced line, a second ``:``) the problem mark is the line itself.
    """
    problem, context = getattr(exc, "problem_mark", None), getattr(exc, "context_mark", None)
    opened = str(getattr(exc, "context", "") or "")
    if context is not None and ("flow" in opened or "scanning" in opened):
        return context.line + 1
    if problem is None:
        return None
    lines = text.splitlines()
    refused = lines[problem.line] if problem.line < len(lines) else ""
    if "mapping values are not allowed" in str(getattr(exc, "problem", "")) and not refused[:1].isspace():
        scalars = []
        try:
            for token in yaml.scan(text):
                if isinstance(token, yaml.ScalarToken):
                    scalars.append(token)
        except yaml.YAMLError:
            pass  # the scan stops at the same problem; the tokens before it are what counts
        if scalars and scalars[-1].start_mark.line < problem.line:
            return problem.line  # the line above the refused ':', 1-based
    return problem.line + 1


class ProjectConfig:
    """A project's config.yaml: its values, where it lives, and the project root."""

    def __init__(self, data: dict[str, Any], location: str):
        self.data = dict(data)
        self.location = storage.normalize(location)

    # -- loading and saving -------------------------------------------------------------------
    @classmethod
    def load(cls, location: str) -> "ProjectConfig":
        """Read and validate config.yaml (or the project folder holding it)."""
        location = storage.normalize(location)
        if not location.endswith((".yaml", ".yml")):
            location = storage.join(location, CONFIG_FILE)
        if not storage.exists(location):
            raise ConfigError(
                f"{location}: no config.yaml here; pass the path of a project's config.yaml "
                "(create one with `posering create_new_project`)")
        text = storage.read_text(location)
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            line = yaml_error_line(exc, text)
            problem = " ".join(str(p) for p in (getattr(exc, "problem", None) or exc,
                                                getattr(exc, "context", None)) if p)
            raise ConfigError(f"{location}:{f' line {line}' if line else ''} is not valid YAML ({problem})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{location}: expected a mapping of keys to values at the top level")
        config = cls(data, location)
        config.validate()
        return config

    def save(self) -> None:
        """Validate, then write atomically in DeepLabCut's layout."""
        self.data["project_path"] = self.project_path
        self.validate()
        storage.write_text(self.location, self.to_yaml())

    def to_yaml(self) -> str:
        out = io.StringIO()
        for comment, keys in SECTIONS:
            present = {k: self.data[k] for k in keys if k in self.data}
            if not present:
                continue
            out.write(f"# {comment}\n")
            out.write(_dump(present))
            out.write("\n")
        extra = {k: v for k, v in self.data.items() if k not in KNOWN_KEYS}
        if extra:
            out.write("# Other settings (kept as found; posering does not use them)\n")
            out.write(_dump(extra))
        return out.getvalue()

    # -- the project root -----------------------------------------------------------------------
    @property
    def project_path(self) -> str:
        """The folder holding config.yaml, whatever the file's project_path says."""
        return storage.parent(self.location)

    @property
    def project_path_was_stale(self) -> bool:
        written = self.data.get("project_path")
        return not written or storage.normalize(str(written)) != self.project_path

    # -- typed access -------------------------------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        if key == "project_path":
            return self.project_path
        if key in self.data:
            return self.data[key]
        if key in DEFAULTS:
            return DEFAULTS[key]
        raise ConfigError(f"{self.location}: key {key!r} is missing{_did_you_mean(key, self.data)}")

    def __setitem__(self, key: str, value: Any) -> None:
        self.data[key] = value

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except ConfigError:
            return default

    @property
    def task(self) -> str:
        return str(self["Task"])

    @property
    def scorer(self) -> str:
        return str(self["scorer"])

    @property
    def date(self) -> str:
        return str(self["date"])

    @property
    def bodyparts(self) -> list[str]:
        return list(self["bodyparts"])

    @property
    def skeleton(self) -> list[list[str]]:
        return [list(bone) for bone in (self.get("skeleton") or [])]

    @property
    def iteration(self) -> int:
        return int(self["iteration"])

    @property
    def training_fractions(self) -> list[float]:
        return [float(f) for f in self["TrainingFraction"]]

    @property
    def video_sets(self) -> dict[str, dict]:
        return dict(self.data.get("video_sets") or {})

    def video_crop(self, video_key: str) -> Crop | None:
        entry = self.video_sets.get(video_key) or {}
        crop = entry.get("crop")
        return Crop.parse(crop, f"{self.location}: video_sets[{video_key!r}]") if crop else None

    def analysis_crop(self) -> Crop | None:
        """The crop for analysis from x1, x2, y1, y2 when ``cropping: true``."""
        if not self.get("cropping"):
            return None
        return Crop.parse([self["x1"], self["x2"], self["y1"], self["y2"]], f"{self.location}: x1/x2/y1/y2")

    # -- validation ---------------------------------------------------------------------------------
    def validate(self) -> None:
        """Raise ConfigError naming the file and key for the first problem found."""
        from posering.project.config_checks import validate_config

        validate_config(self.data, self.location)


def _dump(mapping: dict) -> str:
    return yaml.safe_dump(mapping, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100)


def _did_you_mean(key: str, data: dict) -> str:
    close = difflib.get_close_matches(key, [str(k) for k in data], n=1)
    return f" (found {close[0]!r}: a typo?)" if close else "; add it to config.yaml"


def is_placeholder(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PLACEHOLDER_PREFIX)
