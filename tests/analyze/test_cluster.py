"""Beyond one machine: a local multi-node Ray cluster spreads shards over its nodes."""

import subprocess
import sys
import textwrap

import pytest
import yaml

SCRIPT = textwrap.dedent("""
    import sys, yaml, ray
    from ray.cluster_utils import Cluster
    from posering.analyze.analyze_videos import analyze_videos

    config, videos, out = sys.argv[1:4]
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address)
    scorer = analyze_videos(config, [videos], num_workers=2, shard_frames=15, destfolder=out, precision='fp32')
    ray.shutdown()
    cluster.shutdown()
    print("SCORER", scorer)
""")


@pytest.mark.slow
def test_shards_spread_over_two_nodes(analysis_project, videos_dir, tmp_path):
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-c", SCRIPT, analysis_project, str(videos_dir), str(out)],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    scorer = result.stdout.split("SCORER", 1)[1].strip()
    meta = yaml.safe_load((out / f"mouse-a{scorer}_meta.yaml").read_text())
    assert meta["run"]["nodes"] == 2, "both nodes analysed shards"
    assert meta["video"]["nframes"] == 120


INT8_SCRIPT = textwrap.dedent("""
    import sys, ray
    from ray.cluster_utils import Cluster
    from posering.analyze.analyze_videos import analyze_videos
    from posering.errors import PoseringError

    config, videos, out = sys.argv[1:4]
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address)
    try:
        analyze_videos(config, [videos], num_workers=2, destfolder=out, precision='int8')
    except PoseringError as exc:
        print("REFUSED", exc)
    ray.shutdown()
    cluster.shutdown()
""")


@pytest.mark.slow
def test_int8_is_refused_where_workers_run_on_other_nodes(analysis_project, videos_dir, tmp_path):
    """The calibrated int8 graph lives in the driver machine's cache, which other nodes lack."""
    result = subprocess.run([sys.executable, "-c", INT8_SCRIPT, analysis_project, str(videos_dir), str(tmp_path)],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "REFUSED precision='int8' needs every worker on this machine" in result.stdout
    assert not list(tmp_path.glob("*.h5"))
