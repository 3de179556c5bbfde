"""Scaling from zero and back, with Ray's own autoscaler and its fake multi-node provider (worker
"machines" are Ray nodes started on this one): a head with no CPU, a worker type with
``min_workers: 0``. Submitting a collection makes worker nodes appear while its shards wait,
the shards spread over them, and the nodes go away once idle; the job's run report records the
nodes over time."""

from __future__ import annotations

import pandas as pd
import pytest

from posering import storage
from tests.cluster.conftest import posering, report_table, reports
from tests.cluster.ray_cluster import RayCluster

pytestmark = pytest.mark.slow

IDLE_TIMEOUT_S = 6
AUTOSCALING = {
    "cluster_name": "posering-test",
    "max_workers": 2,
    "provider": {"type": "fake_multinode", "use_node_id_as_ip": True, "disable_node_updaters": True,
                 "disable_launch_config_check": True},
    "available_node_types": {
        "ray.head.default": {"resources": {"CPU": 0}, "node_config": {}, "max_workers": 0},
        "cpu_worker": {"resources": {"CPU": 1, "object_store_memory": 150 * 1024 * 1024}, "node_config": {},
                       "min_workers": 0, "max_workers": 2},
    },
    "head_node_type": "ray.head.default",
    "upscaling_speed": 1.0,
    "idle_timeout_minutes": IDLE_TIMEOUT_S / 60,
    "auth": {}, "docker": {}, "file_mounts": {}, "cluster_synced_files": [], "file_mounts_sync_continuously": False,
    "rsync_exclude": [], "rsync_filter": [], "initialization_commands": [], "setup_commands": [],
    "head_setup_commands": [], "worker_setup_commands": [], "head_start_ray_commands": [],
    "worker_start_ray_commands": [],
}


@pytest.fixture(scope="module")
def autoscaling_cluster():
    cluster = RayCluster(head_cpus=0, autoscaling_config=AUTOSCALING)
    try:
        yield cluster
    finally:
        cluster.stop()


def test_workers_come_for_the_shards_and_go_when_idle(autoscaling_cluster, collection):
    cluster = autoscaling_cluster
    assert len(cluster.alive_nodes()) == 1, "the cluster starts with its head alone"
    dest = f"{collection.bucket}/poses-autoscaled"
    code, out, err = posering("submit", "analyze", collection.config, collection.videos, "--destfolder", dest,
                              "--precision", "fp32", "--num_workers", "2", "--shard_frames", "10",
                              "--watch_scale_down", "180", *collection.env_options(),
                              "--address", cluster.dashboard_url, RAY_AUTH_TOKEN=cluster.token)
    assert code == 0, out[-4000:] + err[-2000:]
    assert "the autoscaler removed the idle worker nodes" in out

    (report,) = reports(dest)
    with storage.local_copy(storage.join(storage.parent(report), "nodes.csv")) as path:
        timeline = pd.read_csv(path)
    assert timeline["worker_nodes"].iloc[0] == 0, "no worker node before the job"
    assert timeline["worker_nodes"].max() == 2, "the autoscaler added a node per waiting replica"
    assert timeline["worker_nodes"].iloc[-1] == 0, "and removed them once idle"
    first_worker = timeline.loc[timeline["worker_nodes"] > 0, "time"].min()
    last_busy = timeline.loc[timeline["worker_nodes"] > 0, "time"].max()

    import yaml

    units = []
    for stem in ("mouse-a", "mouse-b"):
        meta = yaml.safe_load(storage.read_text(f"{dest}/{stem}{collection.scorer}_meta.yaml"))
        units += meta["run"]["this_video"]["units"]
    assert min(u["started"] for u in units) >= first_worker - 1.5, "shards waited for the new nodes"
    (head,) = [n["node_id"] for n in cluster.alive_nodes() if n["is_head_node"]]
    nodes = {u["node"] for u in units}
    assert len(nodes) == 2 and head not in nodes, "the shards spread over both added nodes"
    assert last_busy >= max(u["finished"] for u in units), "nodes stayed while there was work"
    table = report_table(report)
    assert (table["status"] == "analyzed").all()
    assert "## Nodes over time" in storage.read_text(report)
    assert len(cluster.alive_nodes()) == 1, "back to the head alone"
