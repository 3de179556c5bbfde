"""Checks on config.yaml values: one clear error naming the file, the key and what to do."""

from __future__ import annotations

import difflib
import logging
import numbers
from typing import Any

from posering import storage
from posering.errors import ConfigError
from posering.project.config import KNOWN_KEYS, REQUIRED_KEYS, Crop, is_placeholder

log = logging.getLogger("posering.project")
_WARNED: set[tuple[str, str]] = set()  # (config, what): each warning once per process

# Keys DeepLabCut 3 (and older versions) write that posering keeps but does not use.
DLC_EXTRA_KEYS = {
    "config_version", "pose_config_path", "individuals", "uniquebodyparts", "multianimalbodyparts",
    "default_track_method", "SuperAnimalConversionTables", "resnet", "croppedtraining",
}


def validate_config(data: dict[str, Any], where: str) -> None:
    _check_key_names(data, where)
    if data.get("multianimalproject"):
        raise ConfigError(
            f"{where}: multianimalproject is true; posering handles single-animal projects only "
            "for now (use DeepLabCut for multi-animal projects)")
    _check_names(data, where)
    _check_bodyparts(data, where)
    _check_skeleton(data, where)
    _check_numbers(data, where)
    _check_plotting(data, where)
    _check_video_sets(data, where)
    _check_cropping(data, where)


def _fail(where: str, key: str, message: str) -> None:
    raise ConfigError(f"{where}: key {key!r}: {message}")


def _check_key_names(data: dict, where: str) -> None:
    missing = [k for k in REQUIRED_KEYS if k not in data]
    unknown = [str(k) for k in data if k not in KNOWN_KEYS and k not in DLC_EXTRA_KEYS]
    for key in unknown:
        # A key that is nearly a known (and absent) key is almost surely a typo.
        close = difflib.get_close_matches(key, [k for k in KNOWN_KEYS if k not in data], n=1, cutoff=0.8)
        if close:
            raise ConfigError(f"{where}: unknown key {key!r}: did you mean {close[0]!r}? Rename it.")
        # Beside the key it nearly spells, it is a typo too, but one whose value is silently unused.
        present = difflib.get_close_matches(key, [k for k in KNOWN_KEYS if k in data], n=1, cutoff=0.8)
        if present and (where, key) not in _WARNED:
            _WARNED.add((where, key))
            log.warning("%s: unknown key %r is ignored; it looks like a misspelt %r, which is also set "
                        "(%s: %r is used): delete %r, or move its value to %r", where, key, present[0],
                        present[0], data[present[0]], key, present[0])
    if missing:
        raise ConfigError(f"{where}: key {missing[0]!r} is missing; add it (see docs/config.md)")


def _check_names(data: dict, where: str) -> None:
    for key in ("Task", "scorer"):
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            _fail(where, key, "must be a non-empty name")
        if any(ch in value for ch in "/\\"):
            _fail(where, key, f"{value!r} must not contain '/' or '\\' (it is used in file names)")


def _check_bodyparts(data: dict, where: str) -> None:
    parts = data.get("bodyparts")
    if parts == "MULTI!":
        raise ConfigError(f"{where}: bodyparts 'MULTI!' marks a multi-animal project; posering "
                          "handles single-animal projects only for now")
    if not isinstance(parts, list) or not parts:
        _fail(where, "bodyparts", "must be a non-empty list of names")
    seen = set()
    for part in parts:
        if not isinstance(part, str) or not part:
            _fail(where, "bodyparts", f"{part!r} is not a name")
        if any(ch.isspace() for ch in part):
            _fail(where, "bodyparts", f"{part!r} contains a space; use e.g. {part.replace(' ', '_')!r}")
        if part in seen:
            _fail(where, "bodyparts", f"{part!r} appears twice; bodypart names must be unique")
        seen.add(part)


def _check_skeleton(data: dict, where: str) -> None:
    skeleton = data.get("skeleton") or []
    if not isinstance(skeleton, list):
        _fail(where, "skeleton", "must be a list of [bodypart, bodypart] pairs")
    known = set(data.get("bodyparts") or [])
    for bone in skeleton:
        if not isinstance(bone, (list, tuple)) or len(bone) != 2:
            _fail(where, "skeleton", f"{bone!r} is not a pair [bodypart, bodypart]")
        for part in bone:
            if part not in known:
                _fail(where, "skeleton", f"bone {list(bone)} names {part!r}, which is not in bodyparts "
                      f"{sorted(known)}; fix the name or add the bodypart")


def _number(data: dict, where: str, key: str, low=None, high=None, integer=False,
            low_open=False, high_open=False) -> None:
    if key not in data or data[key] is None:
        return
    value = data[key]
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        _fail(where, key, f"{value!r} is not {'an integer' if integer else 'a number'}")
    if low is not None and (value <= low if low_open else value < low):
        _fail(where, key, f"{value} is below the allowed range")
    if high is not None and (value >= high if high_open else value > high):
        _fail(where, key, f"{value} is above the allowed range")


def _check_numbers(data: dict, where: str) -> None:
    _number(data, where, "start", 0, 1)
    _number(data, where, "stop", 0, 1)
    if float(data.get("start", 0)) >= float(data.get("stop", 1)):
        _fail(where, "start", f"start ({data.get('start')}) must be below stop ({data.get('stop')})")
    _number(data, where, "numframes2pick", 1, integer=True)
    _number(data, where, "iteration", 0, integer=True)
    _number(data, where, "batch_size", 1, integer=True)
    _number(data, where, "pcutoff", 0, 1)
    fractions = data.get("TrainingFraction", [0.95])
    if not isinstance(fractions, list) or not fractions:
        _fail(where, "TrainingFraction", "must be a list of fractions such as [0.95]")
    for fraction in fractions:
        if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real) or not 0 < fraction < 1:
            _fail(where, "TrainingFraction", f"{fraction!r} must be a fraction strictly between 0 and 1")
    snapshot = data.get("snapshotindex", -1)
    if snapshot != "all" and (isinstance(snapshot, bool) or not isinstance(snapshot, int)):
        _fail(where, "snapshotindex", f"{snapshot!r} must be an integer (-1 = best/last) or 'all'")


def _check_plotting(data: dict, where: str) -> None:
    _number(data, where, "dotsize", 0, low_open=True)
    _number(data, where, "alphavalue", 0, 1)
    import matplotlib
    import matplotlib.colors

    colormap = data.get("colormap", "rainbow")
    if colormap not in matplotlib.colormaps:
        close = difflib.get_close_matches(str(colormap), list(matplotlib.colormaps), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else " (e.g. rainbow, jet, viridis)"
        _fail(where, "colormap", f"{colormap!r} is not a matplotlib colormap{hint}")
    color = data.get("skeleton_color", "black")
    if not matplotlib.colors.is_color_like(color):
        _fail(where, "skeleton_color", f"{color!r} is not a colour matplotlib knows")


def _check_video_sets(data: dict, where: str) -> None:
    video_sets = data.get("video_sets")
    if video_sets is None:
        return
    if not isinstance(video_sets, dict):
        _fail(where, "video_sets", "must map each video path to {crop: 'x1, x2, y1, y2'}")
    for video, entry in video_sets.items():
        if is_placeholder(video):
            continue
        if not isinstance(entry, dict):
            _fail(where, "video_sets", f"entry for {video!r} must be a mapping like {{crop: '0, 640, 0, 480'}}")
        if entry.get("crop") is not None:
            Crop.parse(entry["crop"], f"{where}: video_sets[{video!r}]")
        _warn_if_outside_the_project(str(video), where)


def _warn_if_outside_the_project(video: str, where: str) -> None:
    """A relative key is read from the project folder; one that climbs out of it with ``..``
    makes the project depend on where it sits beside other folders."""
    if not storage.is_relative(video):
        return
    root = storage.parent(where)
    target = storage.resolve(video, root)
    if target.startswith(storage.join(root, "")) or (where, video) in _WARNED:
        return
    _WARNED.add((where, video))
    log.warning("%s: video_sets key %r leads outside the project folder (to %s); relative video "
                "paths are read from the project folder: give an absolute path, or move the video "
                "into videos/ and list it as 'videos/%s'", where, video, target, storage.name(video))


def _check_cropping(data: dict, where: str) -> None:
    if not data.get("cropping"):
        return
    for key in ("x1", "x2", "y1", "y2"):
        _number(data, where, key, 0, integer=True)
    Crop.parse([data.get("x1"), data.get("x2"), data.get("y1"), data.get("y2")], f"{where}: x1/x2/y1/y2")
