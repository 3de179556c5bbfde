"""python -m benchmarks.analyze_memory: it finds the worker process and samples its memory."""

import math

import pytest


@pytest.mark.slow
def test_memory_benchmark_samples_the_worker(ray_session, tmp_path, capsys):
    from benchmarks.analyze_memory import main

    (row,) = main(["--minutes", "0.05", "--workdir", str(tmp_path), "--plot", str(tmp_path / "rss.png")])
    assert row["shards"] >= 1
    # A worker holds torch, OpenCV and a model: hundreds of MiB, seen by the /proc sampler.
    late = row["median, 2nd half"]
    assert not math.isnan(late) and 200 < late <= row["largest, 2nd half"]
    assert (tmp_path / "rss.png").stat().st_size > 10_000
    assert "| 0.05 min (90 frames, 640x480) |" in capsys.readouterr().out
