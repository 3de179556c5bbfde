"""Time and peak memory of extract_frames (kmeans and uniform) on a 20-minute 640x480 video.

    python -m benchmarks.extract [--minutes 20] [--workdir /tmp/posering-bench]

The synthetic video (posering.demo.synthetic at 640x480, 30 fps) is rendered once into the work
folder and reused. Each method then runs in its own fresh project and its own Python process, so
its peak resident memory is its own: the parent reads it from ``wait4`` (the kernel's rusage of
that child, as ``getrusage(RUSAGE_CHILDREN)`` reports it for all children together). A process
that only imports posering gives the baseline the methods add to. Prints one YAML line per run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

WORKER = """
import json, sys, time
import posering.frames.extract_frames, sklearn.cluster, cv2
method, config = sys.argv[1], sys.argv[2]
start = time.perf_counter()
if method != "baseline":
    result = posering.frames.extract_frames.extract_frames(config, algo=method)
    frames = sum(r["added"] for r in result.values())
else:
    frames = 0
print(json.dumps({"seconds": time.perf_counter() - start, "frames": frames}))
"""


def render(location: str, minutes: float) -> str:
    """The benchmark video (rendered once; frames are cheap shapes, mp4v keeps encoding fast)."""
    from posering.demo.synthetic import Scene, render_video

    if not os.path.exists(location):  # written atomically: a partial render never lands here
        render_video(location, Scene(width=640, height=480, fps=30.0, nframes=int(minutes * 60 * 30),
                                     body_length=110.0))
    return location


def measure(method: str, config: str) -> dict:
    """Run one method in a child process; its wall time and peak RSS (MiB)."""
    path = os.pathsep.join(filter(None, [_package_root(), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, PYTHONPATH=path)
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", WORKER, method, config], stdout=subprocess.PIPE, env=env)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{method} failed with exit code {child.returncode}")
    report = json.loads(output.decode().strip().splitlines()[-1])
    return {"method": method, "extract_s": round(report["seconds"], 1),
            "process_s": round(time.perf_counter() - started, 1), "frames": report["frames"],
            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1)}  # ru_maxrss is in KiB on Linux


def _package_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "posering-bench"))
    args = parser.parse_args(argv)
    from posering.project.create_new_project import create_new_project
    from posering.video import probe

    os.makedirs(args.workdir, exist_ok=True)
    started = time.perf_counter()
    video = render(os.path.join(args.workdir, f"synthetic-{args.minutes:g}min-640x480.mp4"), args.minutes)
    info = probe(video)
    print(f"# video: {video}: {info.frame_count} frames, {info.width}x{info.height}, {info.fps:g} fps, "
          f"codec {info.codec} (ready in {time.perf_counter() - started:.0f} s)")
    results = []
    for method in ("baseline", "uniform", "kmeans"):
        project = tempfile.mkdtemp(prefix=f"{method}-", dir=args.workdir)
        config = create_new_project("bench", "posering", [video], working_directory=project)
        result = measure(method, config)
        results.append(result)
        print(json.dumps(result))
    return results


if __name__ == "__main__":
    main()
