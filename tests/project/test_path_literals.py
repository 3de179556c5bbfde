"""The path rule: every project file or folder name lives in ``posering/project/paths.py``.

The names are derived from paths.py itself: each upper-case module-level constant that is a
string, or a tuple or dict of strings (``VIDEO_SUFFIXES`` excepted: those are extensions of the
user's videos, not names posering gives), so a name added there is enforced here at once.

Every other module of the package is parsed with :mod:`ast` and its string constants (f-string
pieces included, docstrings excluded) are checked. A constant is a leak when it *names* a file:

- a name with a ``.``, ``-``, ``_`` or capital (``learning_stats.csv``, ``labeled-data``,
  ``_meta``, ``CollectedData_``) is a leak wherever it appears in a constant, unless letters or
  digits touch it on either side (``my_meta`` is another word);
- a plain word (``videos``, ``train``, ``test``) is a leak only as a component of a path written
  with ``/`` (``"train/pose_cfg.yaml"``): as a bare word it is just as often a dict key or a
  parameter name (``{"train": ..., "test": ...}``, ``videos=``), which is no file name;
- prose is not a name: a constant containing whitespace is a message or help text that may
  *mention* a file (``"no learning_stats.csv here"``); building a location is what the rule is
  about.

Snapshot file names (``snapshot-<EEE>.pt``) are the one exception by design: naming, listing and
selecting snapshots is one fact, kept in ``posering/formats/snapshots.py``; the last test holds
the snapshot prefix to that module (and paths.py, which names folders after a snapshot, such as
an exported model's). Names that are not a project's are out of scope: the client's own settings
(``recent-projects.yaml`` in the user's config folder), caches, temporary folders and thread names.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import posering
from posering.formats import snapshots
from posering.project import paths

PACKAGE = Path(posering.__file__).parent
PATHS_MODULE = Path(paths.__file__).resolve()
SNAPSHOTS_MODULE = Path(snapshots.__file__).resolve()
NOT_NAMES = {"VIDEO_SUFFIXES"}


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (tuple, list, frozenset, set)):
        return [v for v in value if isinstance(v, str)]
    if isinstance(value, dict):
        return [v for v in value.values() if isinstance(v, str)]
    return []


def project_names() -> dict[str, str]:
    """name -> the paths.py constant it comes from."""
    names = {}
    for constant, value in vars(paths).items():
        if constant.isupper() and constant not in NOT_NAMES:
            for name in _strings(value):
                names.setdefault(name, f"paths.{constant}")
    return names


def _is_plain_word(name: str) -> bool:
    return re.fullmatch(r"[a-z]+", name) is not None


def _leaked(text: str, name: str) -> bool:
    if any(ch.isspace() for ch in text):
        return False
    if _is_plain_word(name):
        return "/" in text and name in text.split("/")
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])", text) is not None


def _docstring_nodes(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def leaks(source: str, filename: str, names: dict[str, str]) -> list[str]:
    """``file:line: 'literal' names <name> (paths.<CONSTANT>)`` for each leak in ``source``."""
    tree = ast.parse(source, filename)
    docstrings = _docstring_nodes(tree)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or id(node) in docstrings:
            continue
        for name, constant in names.items():
            if _leaked(node.value, name):
                found.append(f"{filename}:{node.lineno}: {node.value!r} names {name!r} "
                             f"(use {constant})")
    return found


def test_names_are_derived_from_paths_module():
    names = project_names()
    for expected in ("labeled-data", "dlc-models-pytorch", "evaluation-results-pytorch", "ray-runs"):
        assert expected in names
    assert ".mp4" not in names


@pytest.mark.parametrize("source, leak", [
    ('storage.join(root, "labeled-data", stem)', True),
    ('f"{base}_meta.yaml"', True),
    ('x = "train/pose_cfg.yaml"', True),
    ('{"train": 1, "test": 2}', False),
    ('raise Error(f"{root}: no labeled-data folder here")', False),
    ('def f():\n    """Writes labeled-data/<video>."""\n', False),
])
def test_the_check_tells_names_from_words(source, leak):
    names = {"labeled-data": "LABELED_DATA", "_meta": "META_SUFFIX", "pose_cfg.yaml": "POSE_CFG",
             "train": "TRAIN_DIR", "test": "TEST_DIR"}
    assert bool(leaks(source, "x.py", names)) is leak


def test_no_project_file_name_outside_paths_module():
    names = project_names()
    found = []
    for module in sorted(PACKAGE.rglob("*.py")):
        if module.resolve() == PATHS_MODULE:
            continue
        found += leaks(module.read_text(), str(module.relative_to(PACKAGE.parent)), names)
    assert not found, "project file names outside posering/project/paths.py:\n" + "\n".join(found)


def test_snapshot_names_only_in_formats_snapshots():
    names = {f"{snapshots.PREFIX}-": "formats.snapshots.PREFIX"}
    found = []
    for module in sorted(PACKAGE.rglob("*.py")):
        if module.resolve() in (SNAPSHOTS_MODULE, PATHS_MODULE):
            continue
        found += leaks(module.read_text(), str(module.relative_to(PACKAGE.parent)), names)
    assert not found, "snapshot file names outside posering/formats/snapshots.py:\n" + "\n".join(found)
