"""config.yaml as a form: each key a field, its text checked by the config model as it is typed.

The form holds what the user typed (text), turns it into the value config.yaml would hold, and
asks the config model's own checks (:func:`posering.project.config_checks.validate_config`)
about the config with that one field changed: the message shown beside a field is exactly the
one ``posering`` prints for that value. Saving applies the changed keys onto config.yaml as it is
on disk now (another program may have changed other keys meanwhile), validates the whole, and
writes it atomically through :meth:`ProjectConfig.save`; a refused value changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from posering.errors import ConfigError
from posering.project import ProjectConfig
from posering.project.config import DEFAULTS

TEXT, NUMBER, INTEGER, NAMES, FRACTIONS, CHOICE, FLAG = "text", "number", "integer", "names", "fractions", \
    "choice", "flag"


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    kind: str
    help: str
    choices: tuple[str, ...] = ()


FIELDS: list[Field] = [
    Field("bodyparts", "bodyparts", NAMES, "one name per line, in labeling order"),
    Field("numframes2pick", "frames to pick", INTEGER, "frames extract_frames picks per video"),
    Field("start", "start", NUMBER, "fraction of each video where frame picking starts (0..1)"),
    Field("stop", "stop", NUMBER, "fraction of each video where frame picking stops (0..1)"),
    Field("pcutoff", "pcutoff", NUMBER, "likelihood below which a prediction is not drawn (0..1)"),
    Field("dotsize", "dotsize", NUMBER, "marker size of plots, labeled videos and labeling"),
    Field("alphavalue", "alphavalue", NUMBER, "marker opacity (0..1)"),
    Field("colormap", "colormap", TEXT, "a matplotlib colormap: rainbow, viridis, jet, ..."),
    Field("skeleton_color", "skeleton colour", TEXT, "a colour name or #rrggbb"),
    Field("TrainingFraction", "TrainingFraction", FRACTIONS, "fractions of labeled frames used to train, "
          "e.g. 0.95 (several: 0.8, 0.95)"),
    Field("default_net_type", "default net", TEXT, "network of new training datasets: auto (chosen from the data) or e.g. resnet_50"),
    Field("default_augmenter", "default augmenter", CHOICE, "augmentation of new training datasets",
          ("default", "albumentations", "imgaug")),
    Field("batch_size", "analysis batch size", INTEGER, "frames per batch in analyze_videos"),
    Field("snapshotindex", "snapshotindex", TEXT, "-1: the best/last snapshot; 0, 1, ...; or all"),
    Field("iteration", "iteration", INTEGER, "the active labeling iteration (raised by merge_datasets)"),
    Field("cropping", "crop analysis", FLAG, "analyze only the x1..x2, y1..y2 box"),
    Field("x1", "x1", INTEGER, "crop box left (pixels)"),
    Field("x2", "x2", INTEGER, "crop box right (pixels, exclusive)"),
    Field("y1", "y1", INTEGER, "crop box top (pixels)"),
    Field("y2", "y2", INTEGER, "crop box bottom (pixels, exclusive)"),
]
FIELDS_BY_KEY = {f.key: f for f in FIELDS}


def to_text(field: Field, value: Any) -> str:
    """How a config value reads in its field."""
    if field.kind == NAMES:
        return "\n".join(str(v) for v in value or [])
    if field.kind == FRACTIONS:
        return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value or [])
    if field.kind == FLAG:
        return "true" if value else "false"
    return "" if value is None else (f"{value:g}" if isinstance(value, float) else str(value))


def to_value(field: Field, text: str) -> Any:
    """The value config.yaml will hold for this text (numbers as numbers, lists as lists). Text
    that is not a number stays text, so the config model names it in its own message."""
    text = text.strip()
    if field.kind == NAMES:
        parts = [p.strip() for line in text.splitlines() for p in line.split(",")]
        return [p for p in parts if p]
    if field.kind == FRACTIONS:
        return [_scalar(p) for p in text.replace("[", "").replace("]", "").split(",") if p.strip()]
    if field.kind == FLAG:
        return text.lower() in ("true", "1", "yes", "on")
    if field.kind in (NUMBER, INTEGER) or field.key == "snapshotindex":
        return _scalar(text)
    return text


def _scalar(text: str) -> Any:
    try:
        value = yaml.safe_load(text.strip())
    except yaml.YAMLError:
        return text.strip()
    return value if isinstance(value, (int, float, str)) and not isinstance(value, bool) else text.strip()


def short(message: str, location: str) -> str:
    """A config error without the file's location in front (the field says where)."""
    for prefix in (f"{location}: ", f"{location}:"):
        if message.startswith(prefix):
            return message[len(prefix):]
    return message


class ConfigForm:
    """The form's texts, their messages, and saving."""

    def __init__(self, config: ProjectConfig):
        self.config = config
        self.saved = {f.key: to_text(f, config.get(f.key, DEFAULTS.get(f.key))) for f in FIELDS}
        self.texts = dict(self.saved)
        self.errors: dict[str, str] = {}
        self.dropped_bones: list[list[str]] = []  # by the last save: they named removed bodyparts

    def set(self, key: str, text: str) -> str | None:
        """The user typed ``text`` into ``key``'s field; returns the message for it (None: fine)."""
        self.texts[key] = text
        self.errors.pop(key, None)
        if text != self.saved[key]:
            message = self.check({key: to_value(FIELDS_BY_KEY[key], text)})
            if message:
                self.errors[key] = message
        return self.errors.get(key)

    def check(self, changes: dict[str, Any]) -> str | None:
        data = {**self.config.data, **self.consistent(changes, self.config.data)}
        try:
            ProjectConfig(data, self.config.location).validate()
        except ConfigError as exc:
            return short(str(exc), self.config.location)
        return None

    @staticmethod
    def consistent(changes: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        """``changes``, plus the skeleton without the bones of bodyparts the change removes (the
        form cannot edit bones, and a new project's placeholder bones would block every rename)."""
        if "bodyparts" not in changes or "skeleton" in changes or not isinstance(changes["bodyparts"], list):
            return changes
        kept = set(changes["bodyparts"])
        skeleton = data.get("skeleton") or []
        bones = [b for b in skeleton if isinstance(b, (list, tuple)) and set(b) <= kept]
        return {**changes, "skeleton": bones} if len(bones) != len(skeleton) else changes

    @property
    def changed(self) -> dict[str, Any]:
        return {key: to_value(FIELDS_BY_KEY[key], text) for key, text in self.texts.items()
                if text != self.saved[key]}

    def revert(self) -> None:
        self.texts = dict(self.saved)
        self.errors = {}

    def save(self, extra: dict[str, Any] | None = None) -> ProjectConfig:
        """Write the changed keys (and ``extra`` ones, such as the skeleton) into config.yaml as it
        is on disk now; raises ConfigError, naming the key, when the whole is refused (nothing is
        written then)."""
        fresh = ProjectConfig.load(self.config.location)
        changes = self.consistent({**self.changed, **(extra or {})}, fresh.data)
        self.dropped_bones = [b for b in fresh.skeleton if b not in changes.get("skeleton", fresh.skeleton)]
        for key, value in changes.items():
            fresh[key] = value
        fresh.save()
        self.config = fresh
        self.saved = {f.key: to_text(f, fresh.get(f.key, DEFAULTS.get(f.key))) for f in FIELDS}
        self.texts = dict(self.saved)
        self.errors = {}
        return fresh


# -- the skeleton builder -------------------------------------------------------------------------------
class SkeletonBuilder:
    """Bones made by picking two bodyparts in turn; picking an existing bone's ends removes it."""

    def __init__(self, bodyparts: list[str], skeleton: list[list[str]]):
        self.bodyparts = list(bodyparts)
        self.bones: list[list[str]] = [list(b) for b in skeleton if len(b) == 2]
        self.first: str | None = None

    def pick(self, bodypart: str) -> str:
        """A bodypart was clicked; returns what happened, in words."""
        if bodypart not in self.bodyparts:
            return f"{bodypart} is not a bodypart of config.yaml"
        if self.first is None:
            self.first = bodypart
            return f"{bodypart}: now click the bodypart to connect it to"
        first, self.first = self.first, None
        if first == bodypart:
            return "connection cancelled"
        for bone in self.bones:
            if {first, bodypart} == set(bone):
                self.bones.remove(bone)
                return f"removed {first} - {bodypart}"
        self.bones.append([first, bodypart])
        return f"connected {first} - {bodypart}"

    def remove(self, index: int) -> None:
        del self.bones[index]
