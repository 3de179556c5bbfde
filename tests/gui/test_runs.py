"""Runs of steps in a child process, without a window: progress, results, errors, cancelling."""

from __future__ import annotations

import os
import time

import pytest

from posering.gui.state import runs as runs_module
from posering.gui.state.run_child import parse_postfix
from posering.gui.state.runs import CANCELLED, DONE, FAILED, Call, Run, Runs
from posering.gui.state.tasks import Tasks


def wait_for(tasks: Tasks, condition, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        tasks.drain()
        time.sleep(0.02)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is not alive
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_real_step_runs_to_its_result(tmp_path, synthetic_video):
    tasks = Tasks()
    runs = Runs(tasks)
    changes = []
    run = runs.start(Run("create", [Call("create project", "create_new_project",
                                         {"project": "mouse", "experimenter": "me",
                                          "videos": [synthetic_video[0]],
                                          "working_directory": str(tmp_path)})],
                         on_change=lambda r: changes.append(r.state)))
    wait_for(tasks, lambda: not run.active)
    assert run.state == DONE, run.details()
    assert run.results[0].endswith("config.yaml") and os.path.exists(run.results[0])
    assert run.fraction() == 1.0 and "done" in run.summary()
    assert changes[-1] == DONE
    assert os.path.exists(run.output_file)
    runs.close()  # as the window closes
    assert not os.path.exists(runs.output_dir)


def test_progress_comes_back_and_calls_run_in_order(tmp_path):
    tasks = Tasks()
    run = Runs(tasks).start(Run("count", [Call("first", "tests.gui.steps:counting", {"n": 20, "seconds": 0.05}),
                                          Call("second", "tests.gui.steps:counting", {"n": 10, "seconds": 0.05})]))
    wait_for(tasks, lambda: not run.active)
    assert run.state == DONE, run.details()
    assert run.results == [20, 10]
    seen = [(index, bars[0]) for index, bars in run.history if bars]
    assert {index for index, _ in seen} == {0, 1}
    first = [bar for index, bar in seen if index == 0]
    assert all(bar.desc == "counting" and bar.total == 20 for bar in first)
    assert any(0 < bar.n < 20 for bar in first), "no bar seen in the middle of the step"
    assert any(bar.number("loss") is not None for bar in first)
    assert any("step 0" in line for line in run.log)


def test_an_error_is_the_command_lines_one_line_with_details(tmp_path):
    tasks = Tasks()
    run = Runs(tasks).start(Run("bad", [Call("bad", "create_new_project",
                                             {"project": "has space", "experimenter": "me", "videos": []})]))
    wait_for(tasks, lambda: not run.active)
    assert run.state == FAILED
    assert run.error == "project name 'has space' must be non-empty, without spaces or slashes"
    assert "Traceback" in run.details() and "create_new_project" in run.details()


def test_cancel_unwinds_the_step(tmp_path):
    tasks = Tasks()
    marker = tmp_path / "unwound"
    run = Runs(tasks).start(Run("count", [Call("count", "tests.gui.steps:counting",
                                               {"n": 10000, "seconds": 0.01, "marker": str(marker)})]))
    wait_for(tasks, lambda: run.bars and run.bars[0].n > 5)
    pid = run._process.pid
    started = time.monotonic()
    run.cancel()
    assert "cancelling" in run.summary()
    wait_for(tasks, lambda: not run.active)
    assert run.state == CANCELLED and time.monotonic() - started < runs_module.GRACE_S
    assert marker.read_text() == "unwound"  # its finally ran: nothing left half done
    wait_for(tasks, lambda: not alive(pid), timeout=10)


def test_a_step_that_ignores_cancel_is_killed(tmp_path, monkeypatch):
    monkeypatch.setattr(runs_module, "GRACE_S", 1.0)
    tasks = Tasks()
    run = Runs(tasks).start(Run("count", [Call("count", "tests.gui.steps:counting",
                                               {"n": 10000, "seconds": 0.01, "stubborn": True})]))
    wait_for(tasks, lambda: run.bars and run.bars[0].n > 5)
    pid = run._process.pid
    run.cancel()
    wait_for(tasks, lambda: not run.active, timeout=20)
    assert run.state == CANCELLED
    wait_for(tasks, lambda: not alive(pid), timeout=10)


def test_postfix_parsing():
    assert parse_postfix("loss=0.0123, lr=0.001") == {"loss": "0.0123", "lr": "0.001"}
    assert parse_postfix(None) == {}


@pytest.mark.parametrize("seconds,text", [(5, "5 s"), (125, "2 min 05 s"), (7260, "2 h 01 min")])
def test_seconds_read_as_a_person_would(seconds, text):
    assert runs_module.format_seconds(seconds) == text
