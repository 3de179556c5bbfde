"""The window tests (``tests/gui/window``), run in a process of their own and reported here one by
one: the real client window under Xvfb must not share a process with torch (see
``tests/gui/window/conftest.py``)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

WINDOW_TESTS = Path(__file__).parent / "window"
REPO = Path(__file__).resolve().parents[2]


def _window_test_names() -> list[str]:
    names = []
    for path in sorted(WINDOW_TESTS.glob("test_*.py")):
        tree = ast.parse(path.read_text())
        names += [f"{path.stem}::{node.name}" for node in tree.body
                  if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]
    return names


@pytest.fixture(scope="session")
def window_results(tmp_path_factory) -> dict[str, tuple[str, str]]:
    """Run every window test once, in one child process; name -> (outcome, message)."""
    report = tmp_path_factory.mktemp("window") / "report.xml"
    env = {**os.environ, "POSERING_GUI_WINDOW": "1", "PYTHONPATH": str(REPO)}
    process = subprocess.run([sys.executable, "-m", "pytest", str(WINDOW_TESTS), "-q", "-p", "no:cacheprovider",
                              f"--junitxml={report}", "-o", "junit_family=xunit1"],
                             cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
    if not report.exists():
        pytest.fail(f"the window tests did not run (exit {process.returncode}):\n"
                    f"{process.stdout[-4000:]}\n{process.stderr[-4000:]}")
    results = {}
    for case in ElementTree.parse(report).iter("testcase"):
        name = f"{case.get('file', '').rsplit('/', 1)[-1].removesuffix('.py') or case.get('classname').rsplit('.', 1)[-1]}::{case.get('name')}"
        outcome, message = "passed", ""
        for kind in ("failure", "error", "skipped"):
            element = case.find(kind)
            if element is not None:
                outcome = kind
                message = (element.get("message") or "") + "\n" + (element.text or "")
        results[name] = (outcome, message)
    if process.returncode not in (0, 1, 5):  # crashed mid-way: say so beside each missing result
        results["__crash__"] = ("error", f"exit {process.returncode}\n{process.stdout[-3000:]}\n"
                                         f"{process.stderr[-3000:]}")
    return results


@pytest.mark.parametrize("name", _window_test_names())
def test_window(name, window_results):
    if name not in window_results:
        crash = window_results.get("__crash__", ("", "no result"))[1]
        pytest.fail(f"{name}: no result from the window test process: {crash}")
    outcome, message = window_results[name]
    if outcome == "skipped":
        pytest.skip(message.strip().splitlines()[0] if message.strip() else "skipped")
    if outcome != "passed":
        pytest.fail(f"{name} {outcome}:\n{message}", pytrace=False)
