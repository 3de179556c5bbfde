"""Workers are sized from the Ray cluster's resources, not from the driver's machine."""

import pytest

from posering.ray_utils import cluster_cpus, worker_resources


def test_cpu_workers_share_the_cluster_cpus(ray_session):
    total, largest = cluster_cpus(ray_session)
    assert (total, largest) == (2, 2)  # the session's local instance
    one = worker_resources(None, None, None)
    assert (one.num_workers, one.threads_per_worker, one.cpus_per_worker, one.device) == (1, 2, 2, "cpu")
    two = worker_resources(2, None, None)
    assert (two.num_workers, two.threads_per_worker, two.cpus_per_worker) == (2, 1, 1)


def test_gpu_workers_can_be_asked_for_before_the_cluster_has_gpus(ray_session, caplog):
    # An autoscaling cluster adds GPU nodes for pending GPU actors; the driver asks for them.
    shared = worker_resources(4, None, None, gpus_per_worker=0.5)
    assert (shared.num_workers, shared.gpus_per_worker, shared.device) == (4, 0.5, "cuda")
    with caplog.at_level("WARNING", logger="posering.ray"):
        lone = worker_resources(None, None, None, gpus_per_worker=1)
    assert lone.num_workers == 1 and "no GPU yet" in caplog.text


@pytest.mark.parametrize("gputouse", [None, 0])
def test_single_process_path_uses_the_gpu_asked_for(gputouse):
    import torch

    resources = worker_resources(0, gputouse, None)
    expected = f"cuda:{gputouse}" if gputouse is not None and torch.cuda.device_count() else "auto"
    assert resources.num_workers == 0 and resources.device == expected
