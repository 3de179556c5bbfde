"""The labeling client's latency: a key press to the next image drawn, at three image sizes.

    python -m benchmarks.gui_frame_latency [--presses 12] [--workdir /tmp/gui-bench]

The real client window runs under its own Xvfb with Mesa's software OpenGL (llvmpipe), as in the
tests. A project holds three labeled-data folders of 40 frames each at 640x480, 1280x1024 and
2048x2048 (the openfield example's frames, resized, with their labels scaled), and the Label view
steps through each with the Right key. Three timings per size:

* **key to drawn**: from the X server receiving a real Right key press (XTEST) to the end of the
  frame that shows the next image: the event waits for the frame being drawn, the key's callback
  runs after it (decode or prefetched image, texture), and the next frame draws the new image.
  The user pauses 0.3 s on each image, as people do, so the next image has been prepared in the
  background.
* **dispatch to drawn**: the same from the key's handler onwards (no wait for the frame in flight),
  and how much of it the handler takes (the image to the texture, the points, the lists): the rest
  is drawing the frame.
* **jump to drawn**: End/Home alternately, images not prepared in advance: decoding happens on the
  key press.

Beside them, an idle frame's drawing time (what the GPU, here a CPU, costs per frame at this
window size). Numbers are medians and 90th percentiles in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path


SIZES = [(640, 480), (1280, 1024), (2048, 2048)]
FRAMES = 40
WINDOW = (1500, 950)


def make_project(workdir: Path) -> Path:
    """The openfield project with one labeled-data folder per size; its config path."""
    import cv2

    from benchmarks._shared import shared_data
    from posering import labels

    root = workdir / "openfield"
    if root.exists():
        shutil.rmtree(root)
    source = shared_data() / "openfield-Pranav-2018-10-30"
    shutil.copytree(source, root, ignore=shutil.ignore_patterns("videos"))
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.rmtree(root / "labeled-data" / "m4s1")
    human = labels.read_labels(str(source / "labeled-data/m4s1/CollectedData_Pranav.h5"))
    names = [labels.image_relpath(key).rsplit("/", 1)[-1] for key in human.index][:FRAMES]
    xy = labels.points(human)[:FRAMES]
    for width, height in SIZES:
        stem = f"frames{width}x{height}"
        folder = root / "labeled-data" / stem
        folder.mkdir(parents=True)
        for name in names:
            frame = cv2.imread(str(source / "labeled-data/m4s1" / name))
            cv2.imwrite(str(folder / name), cv2.resize(frame, (width, height), interpolation=cv2.INTER_CUBIC))
        scaled = xy * [width / 640, height / 480]
        table = labels.from_arrays("Pranav", labels.bodyparts_of(human),
                                   [f"labeled-data/{stem}/{n}" for n in names], scaled)
        labels.write_labels(table, str(folder / "CollectedData_Pranav.h5"))
    return root / "config.yaml"


def percentiles(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    return f"{statistics.median(ms):.0f} / {ms[int(0.9 * (len(ms) - 1))]:.0f}"


def measure(app, x, view, presses: int) -> dict[str, list[float]]:
    session = view.session
    results = {"key": [], "dispatch": [], "handler": [], "jump": [], "idle": []}

    def idle(seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            start = time.perf_counter()
            app.step()
            results["idle"].append(time.perf_counter() - start)
            app.pace()  # as the client's loop does

    idle(0.5)
    for _ in range(presses):  # a real key press through X
        before = session.frame
        start = time.perf_counter()
        x.key("Right", True)
        while session.frame == before:
            app.step()
            if time.perf_counter() - start > 10:
                raise RuntimeError("the Right key did not reach the Label view in 10 s (keyboard focus?)")
        app.step()  # the frame that shows it (the loop goes on at once after a busy frame)
        results["key"].append(time.perf_counter() - start)
        x.key("Right", False)
        idle(0.3)
        if session.frame >= session.nframes - 2:
            view.act("first_frame")
            idle(0.3)
    for _ in range(presses):  # from the handler on
        start = time.perf_counter()
        app.press("Right")
        handled = time.perf_counter()
        app.step()
        results["dispatch"].append(time.perf_counter() - start)
        results["handler"].append(handled - start)
        idle(0.3)
        if session.frame >= session.nframes - 2:
            view.act("first_frame")
            idle(0.3)
    for i in range(presses):  # jumps: not prepared in advance
        view.cache.clear()
        start = time.perf_counter()
        app.press("End" if i % 2 == 0 else "Home")
        app.step()
        results["jump"].append(time.perf_counter() - start)
        idle(0.1)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presses", type=int, default=12)
    parser.add_argument("--workdir", default=None, help="where the project is written (default: a temp folder)")
    args = parser.parse_args(argv)

    from tests.gui.window.display import start_xvfb, stop_xvfb
    from tests.gui.window.xinput import XInput

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="gui-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    config = make_project(workdir)
    process, display = start_xvfb()
    os.environ["DISPLAY"] = display
    os.environ["LIBGL_ALWAYS_SOFTWARE"] = "1"
    from posering.gui.app import App

    app = App(str(config), width=WINDOW[0], height=WINDOW[1], vsync=False).build()
    x = XInput(display)
    try:
        for _ in range(5):
            app.step()
        x.move(WINDOW[0] // 2, 12)  # keyboard focus follows the pointer without a window manager
        app.show("Label")  # a project opens on the project manager's view
        view = app.view("Label")
        rows = []
        for width, height in SIZES:
            view.open_folder(f"frames{width}x{height}")
            for _ in range(3):
                app.step()
            shown = view.cache.get(os.path.join(view.session.paths.root, view.session.images[0])).texture_size
            results = measure(app, x, view, args.presses)
            rows.append((f"{width}x{height}", f"{shown[0]}x{shown[1]}", percentiles(results["key"]),
                         percentiles(results["dispatch"]), percentiles(results["handler"]),
                         percentiles(results["jump"]), percentiles(results["idle"])))
            print(f"{width}x{height} done", file=sys.stderr, flush=True)
    finally:
        x.close()
        app.destroy()
        stop_xvfb(process)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nwindow {WINDOW[0]}x{WINDOW[1]}, Xvfb + Mesa llvmpipe, {os.cpu_count()} CPUs, load average "
          f"{load:.1f} at the end; milliseconds, median / 90th percentile\n")
    print("| image | texture | key to drawn | dispatch to drawn | of which the handler | jump to drawn (no prefetch) "
          "| idle frame |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
