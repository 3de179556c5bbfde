"""Time the ARIMA filter on a long synthetic pose table, serially and as Ray tasks.

    python -m benchmarks.filter_arima                  # 30 min at 30 fps, 4 bodyparts
    python -m benchmarks.filter_arima --minutes 5 --num-cpus 4

Each bodypart/axis is one independent SARIMAX fit (8 series for 4 bodyparts), so the Ray run
can at best divide the serial time by min(series, cores). The table is a smooth random walk per
bodypart with pixel noise and short low-likelihood stretches, like a tracked animal.
Prints the frame count, both wall times, the speed-up and whether the two results agree.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd

from posering.post.filters import filter_poses
from posering.post.poses import from_arrays


def synthetic_poses(n_frames: int, n_bodyparts: int = 4, seed: int = 0) -> pd.DataFrame:
    """A pose table of `n_frames` frames that moves like an animal in a 640x480 arena."""
    rng = np.random.default_rng(seed)
    # Wandering phases (smoothed noise in the angular speed) keep the path smooth, varied and
    # inside the arena: x, y = centre + amplitude * sin(phase).
    window = 300
    slow = np.convolve(rng.normal(size=(n_frames + window - 1)), np.ones(window) / window, "valid")
    phase_x = np.cumsum(0.010 + 0.05 * slow)
    phase_y = np.cumsum(0.013 + 0.05 * slow[::-1])
    centre = np.column_stack([320 + 200 * np.sin(phase_x), 240 + 140 * np.sin(phase_y)])
    offsets = rng.normal(0.0, 20.0, (n_bodyparts, 2))
    x = centre[:, :1] + offsets[:, 0] + rng.normal(0, 1.5, (n_frames, n_bodyparts))
    y = centre[:, 1:] + offsets[:, 1] + rng.normal(0, 1.5, (n_frames, n_bodyparts))
    p = np.clip(rng.normal(0.95, 0.03, (n_frames, n_bodyparts)), 0, 1)
    # A short occlusion every ~10 s: the network's guess there is garbage with likelihood ~0.
    for start in range(0, n_frames - 10, 300):
        k = rng.integers(n_bodyparts)
        p[start + 5 : start + 10, k] = 0.0
        x[start + 5 : start + 10, k] = rng.uniform(0, 640, 5)
    names = [f"bodypart{k + 1}" for k in range(n_bodyparts)]
    return from_arrays(x, y, p, "DLC_synthetic_bench", names).astype(np.float32)


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run the benchmark; returns the timings (seconds) it printed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="video length (default 30)")
    parser.add_argument("--fps", type=float, default=30.0, help="frames per second (default 30)")
    parser.add_argument("--bodyparts", type=int, default=4, help="bodyparts (default 4)")
    parser.add_argument("--num-cpus", type=int, default=None, help="CPUs for the local Ray (default: all)")
    parser.add_argument("--no-ray", action="store_true", help="time the serial run only")
    args = parser.parse_args(argv)

    n_frames = int(round(args.minutes * 60 * args.fps))
    df = synthetic_poses(n_frames, args.bodyparts)
    series = 2 * args.bodyparts
    print(f"ARIMA filter: {n_frames} frames x {series} series (AR 3, MA 1), cores here: {os.cpu_count()}")

    t0, c0 = time.perf_counter(), time.process_time()
    serial = filter_poses(df, "arima")
    timings = {"frames": float(n_frames), "serial_s": time.perf_counter() - t0}
    # CPU time beside wall time: on a busy machine the wall time also counts waiting for a core.
    timings["serial_cpu_s"] = time.process_time() - c0
    print(
        f"serial: {timings['serial_s']:.1f} s wall, {timings['serial_cpu_s']:.1f} s CPU "
        f"({timings['serial_s'] / series:.1f} s wall per series)"
    )
    if args.no_ray:
        return timings

    import ray

    started_here = not ray.is_initialized()
    if started_here:
        # A local instance (or RAY_ADDRESS's cluster): posering's functions never start Ray.
        ray.init(num_cpus=args.num_cpus, include_dashboard=False, log_to_driver=False)
    try:
        cpus = int(ray.cluster_resources().get("CPU", 0))
        t0 = time.perf_counter()
        parallel = filter_poses(df, "arima", parallel="ray")
        timings["ray_s"] = time.perf_counter() - t0
    finally:
        if started_here:
            ray.shutdown()
    same = np.allclose(serial.to_numpy(), parallel.to_numpy(), equal_nan=True)
    print(
        f"ray ({cpus} CPUs): {timings['ray_s']:.1f} s, speed-up x{timings['serial_s'] / timings['ray_s']:.2f}, "
        f"results {'identical' if same else 'DIFFER'}"
    )
    return timings


if __name__ == "__main__":
    main()
