"""The client's frames while a run goes: does the window keep redrawing within 100 ms?

    python -m benchmarks.gui_run_frames [--iterations 20] [--frames 150] [--workdir /tmp/gui-runs]

The real client window (Xvfb, Mesa llvmpipe, as in the tests) opens a demo project (the synthetic
mouse, ``--frames`` frames at 320x240, 20 labeled frames). Its Train / Evaluate view creates a training
dataset and trains a MobileNetV4-small for ``--iterations`` steps; its Analyze view then analyzes
the video on local Ray, with trajectory plots and a labeled video. Each is a run: a child process
calling the API. The window's loop draws as the client's does (60 frames per second at most,
``App.pace``); every frame's time (events, the run's messages, drawing) is recorded with no run
going (the 5 s just before each run, so that the machine's other work is the same) and during
the run. Printed: median, 90th, 99th percentile and the slowest frame, in milliseconds, and the
share of frames over 100 ms.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

WINDOW = (1500, 950)
TINY = {"train_settings": {"batch_size": 2}, "posering": {"weight_init": "none"},
        "runner": {"eval_interval": 1000},
        "data": {"train": {"affine": None, "crop_sampling": None, "normalize_images": True}}}


def merge(mapping: dict, updates: dict) -> None:
    for key, value in updates.items():
        if isinstance(value, dict) and isinstance(mapping.get(key), dict):
            merge(mapping[key], value)
        else:
            mapping[key] = value


def frames_until(app, done, times: list[float] | None = None, timeout: float = 1800.0) -> None:
    end = time.monotonic() + timeout
    while not done():
        if time.monotonic() > end:
            raise TimeoutError("the run did not finish")
        start = time.perf_counter()
        app.step()
        if times is not None:
            times.append(time.perf_counter() - start)
        app.pace()


def summary(name: str, times: list[float], seconds: float | None = None) -> str:
    ms = sorted(t * 1000 for t in times)
    pick = lambda q: ms[min(len(ms) - 1, int(q * (len(ms) - 1)))]  # noqa: E731
    over = sum(t > 100 for t in ms) / len(ms)
    took = f"{seconds:.0f} s" if seconds is not None else ""
    return (f"| {name} | {took} | {len(ms)} | {pick(0.5):.0f} | {pick(0.9):.0f} | {pick(0.99):.0f} | {ms[-1]:.0f} "
            f"| {100 * over:.1f}% |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--frames", type=int, default=150, help="frames of the analysed video")
    parser.add_argument("--workdir", default=None, help="where the project is written (default: a temp folder)")
    args = parser.parse_args(argv)

    from posering.demo.run import make_demo_project
    from tests.gui.window.display import start_xvfb, stop_xvfb

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="gui-runs-"))
    config = make_demo_project(str(workdir / "demo"), nframes=args.frames, nlabeled=20)
    process, display = start_xvfb()
    os.environ.update(DISPLAY=display, LIBGL_ALWAYS_SOFTWARE="1", HF_HUB_OFFLINE="1")
    import dearpygui.dearpygui as dpg

    from posering.gui.app import App
    from posering.project import ProjectConfig, ProjectPaths

    app = App(config, width=WINDOW[0], height=WINDOW[1], vsync=False).build()
    rows = []
    try:
        def idle(what: str) -> None:
            times: list[float] = []
            end = time.monotonic() + 5
            frames_until(app, lambda: time.monotonic() > end, times)
            rows.append(summary(f"no run, before the {what}", times))

        train = app.view("Train / Evaluate")
        app.show("Train / Evaluate")
        frames_until(app, lambda: bool(train.net_types))
        dpg.set_value("train.net_type", "mobilenet_v4_small")
        train.create_dataset()
        frames_until(app, lambda: not train.dataset_panel.busy)
        model_config = Path(ProjectPaths(ProjectConfig.load(config)).model_config_file(0.95, 1))
        settings = yaml.safe_load(model_config.read_text())
        merge(settings, TINY)
        model_config.write_text(yaml.safe_dump(settings, sort_keys=False))
        train.refresh_shuffles()
        dpg.set_value("train.maxiters", str(args.iterations))
        dpg.set_value("train.precision", "fp32")
        idle("training")
        training: list[float] = []
        train.train()
        frames_until(app, lambda: not train.train_panel.busy, training)
        run = train.train_panel.run
        assert run.state == "done", run.details()
        rows.append(summary(f"training ({args.iterations} iterations)", training, run.elapsed()))

        analyze = app.view("Analyze")
        app.show("Analyze")
        dpg.set_value("analyze.labeled_video", True)
        dpg.set_value("analyze.precision", "fp32")
        idle("analysis")
        analyzing: list[float] = []
        analyze.start()
        frames_until(app, lambda: not analyze.panel.busy, analyzing)
        run = analyze.panel.run
        assert run.state == "done", run.details()
        rows.append(summary(f"analysis ({args.frames} frames, plots, labeled video; local Ray)", analyzing,
                            run.elapsed()))
        print("done", file=sys.stderr, flush=True)
    finally:
        app.destroy()
        stop_xvfb(process)
    print(f"\nwindow {WINDOW[0]}x{WINDOW[1]}, Xvfb + Mesa llvmpipe, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}; frame times in milliseconds\n")
    print("| while | run took | frames | median | 90th | 99th | slowest | over 100 ms |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
