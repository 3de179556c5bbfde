"""Throughput as Ray nodes are added: one worker per node, shards spread over the nodes.

    python -m benchmarks.analyze_nodes --nodes 1 2 --cpus-per-node 1

Starts a local multi-node Ray cluster (``ray.cluster_utils.Cluster``: real raylets, one per
node, on this machine), renders one synthetic 640x480 video, and analyzes it with a small
untrained network (throughput, not accuracy, is measured) on 1 node, then on more nodes with one
worker per node and ``--cpus-per-node`` threads each. Prints frames/s, the speed-up over one
node, and how many nodes the run metadata says analysed shards.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import yaml

from benchmarks._shared import table, timed
from tests.random_model import random_model_project


def _analyze(config: str, video: Path, out: Path, workers: int, address: str) -> tuple[float, dict]:
    from posering.analyze.analyze_videos import analyze_videos

    scorer, seconds = timed(analyze_videos, config, [str(video)], num_workers=workers, address=address,
                            destfolder=str(out), overwrite=True, precision="fp32", shard_frames=60)
    meta = yaml.safe_load((out / f"{video.stem}{scorer}_meta.yaml").read_text())
    return meta["video"]["nframes"] / seconds, meta["run"]


def main(argv: list[str] | None = None) -> list[dict]:
    import ray
    from ray.cluster_utils import Cluster

    from posering.demo.synthetic import Scene, render_video

    parser = argparse.ArgumentParser(prog="python -m benchmarks.analyze_nodes", description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--cpus-per-node", type=int, default=1)
    parser.add_argument("--frames", type=int, default=900)
    parser.add_argument("--net-type", default="resnet_18")
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="posering-bench-nodes-"))
    config = random_model_project(work, args.net_type)
    video = work / f"synthetic-{args.frames}.mp4"
    if not video.exists():
        render_video(str(video), Scene(width=640, height=480, nframes=args.frames, body_length=110))
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": args.cpus_per_node,
                                                            "include_dashboard": False})
    ray.init(address=cluster.address, log_to_driver=False)
    rows, nodes = [], 1
    try:
        for wanted in sorted(args.nodes):
            while nodes < wanted:
                cluster.add_node(num_cpus=args.cpus_per_node)
                nodes += 1
            cluster.wait_for_nodes()
            fps, run = _analyze(config, video, work / f"out-{wanted}", wanted, cluster.address)
            rows.append({"nodes": wanted, "workers": wanted, "threads per worker": args.cpus_per_node,
                         "frames/s": fps, "speed-up": fps / rows[0]["frames/s"] if rows else 1.0,
                         "nodes that analysed shards": run["nodes"]})
    finally:
        ray.shutdown()
        cluster.shutdown()
    print(table(rows, ["nodes", "workers", "threads per worker", "frames/s", "speed-up",
                       "nodes that analysed shards"]))
    return rows


if __name__ == "__main__":
    main()
