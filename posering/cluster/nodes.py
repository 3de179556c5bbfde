"""The cluster's nodes over time, sampled from Ray while a job runs (for its run report).

On an autoscaling cluster this is how a run shows the autoscaler at work: worker nodes appear
while shards wait for them and go away once they have been idle for the cluster's
``idle_timeout_minutes``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass

HEAD_MARKER = "node:__internal_head__"


@dataclass
class NodeSample:
    time: float  # epoch seconds
    nodes: int  # alive nodes, head included
    worker_nodes: int  # alive nodes other than the head
    cpus: float
    gpus: float

    def as_dict(self) -> dict:
        return asdict(self)


def sample_nodes(ray) -> NodeSample:
    alive = [node for node in ray.nodes() if node.get("Alive")]
    workers = [node for node in alive if HEAD_MARKER not in node.get("Resources", {})]
    return NodeSample(time=time.time(), nodes=len(alive), worker_nodes=len(workers),
                      cpus=sum(node["Resources"].get("CPU", 0.0) for node in alive),
                      gpus=sum(node["Resources"].get("GPU", 0.0) for node in alive))


class NodeSampler:
    """Samples the cluster's nodes every ``interval`` seconds on a background thread."""

    def __init__(self, ray, interval: float = 1.0):
        self.ray = ray
        self.interval = interval
        self.samples: list[NodeSample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="posering-node-sampler", daemon=True)

    def start(self) -> "NodeSampler":
        self.samples.append(sample_nodes(self.ray))
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.samples.append(sample_nodes(self.ray))
            except Exception:  # the GCS busy or going away: a gap in the timeline, not a failure
                continue

    def stop(self) -> list[NodeSample]:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        return self.samples

    def wait_for_scale_down(self, seconds: float) -> bool:
        """Keep sampling after the work until the cluster has no more worker nodes than when the
        run began (idle workers removed), or ``seconds`` have passed; True if it shrank back."""
        baseline = self.samples[0].worker_nodes
        if seconds <= 0 or not any(sample.worker_nodes > baseline for sample in self.samples):
            return False  # asked not to wait, or nothing was added that could go away
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.samples[-1].worker_nodes <= baseline:
                return True
            time.sleep(self.interval)
        return False
