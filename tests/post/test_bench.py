from benchmarks.filter_arima import main, synthetic_poses
from posering.post.poses import validate_poses


def test_synthetic_table_is_a_pose_table():
    df = synthetic_poses(600, 3)
    assert validate_poses(df) is df and df.shape == (600, 9)


def test_benchmark_runs_small(ray_session, capsys):
    timings = main(["--minutes", "0.05", "--bodyparts", "1"])
    assert timings["frames"] == 90 and timings["serial_s"] > 0 and timings["ray_s"] > 0
    assert "results identical" in capsys.readouterr().out
