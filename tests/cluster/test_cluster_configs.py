"""The cluster launcher configs pass Ray's own schema, and the KubeRay manifests have what the
RayCluster / RayJob resources need for a CPU head and GPU workers scaled from zero."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
LAUNCHER_CONFIGS = sorted((REPO / "cluster").glob("*.yaml"))
MANIFESTS = sorted((REPO / "deploy").glob("*.yaml"))


@pytest.fixture(scope="module")
def ray_schema() -> dict:
    import ray

    # the schema `ray up` validates every config against (ray.autoscaler._private.util.validate_config)
    return json.loads((Path(ray.__file__).parent / "autoscaler" / "ray-schema.json").read_text())


@pytest.mark.parametrize("path", LAUNCHER_CONFIGS, ids=lambda p: p.name)
def test_launcher_configs_pass_rays_schema(path, ray_schema):
    import jsonschema

    config = yaml.safe_load(path.read_text())
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in jsonschema.Draft7Validator(ray_schema).iter_errors(config)]
    assert not errors, errors
    starts = [c for c in config["head_start_ray_commands"] + config["worker_start_ray_commands"] if "ray start" in c]
    assert len(starts) == 2 and all(c.startswith("RAY_AUTH_MODE=token ray start") for c in starts), \
        "token authentication on the head and on every worker"
    assert "~/.ray/auth_token" in config["file_mounts"], "the token reaches every node"
    assert "--dashboard-host=0.0.0.0" not in " ".join(config["head_start_ray_commands"]), \
        "the dashboard is not exposed: reach it through `ray dashboard`"


@pytest.mark.parametrize("name", ["aws.yaml", "gcp.yaml"])
def test_cloud_configs_scale_gpu_workers_from_zero(name):
    config = yaml.safe_load((REPO / "cluster" / name).read_text())
    head = config["available_node_types"][config["head_node_type"]]
    assert head["resources"] == {"CPU": 0}, "no model replica on the head"
    (worker,) = [t for n, t in config["available_node_types"].items() if n != config["head_node_type"]]
    assert worker["min_workers"] == 0 and worker["max_workers"] >= 1
    assert 0 < config["idle_timeout_minutes"] <= 10


def _manifest_clusters() -> list[tuple[str, dict, dict]]:
    specs = []
    for path in MANIFESTS:
        document = yaml.safe_load(path.read_text())
        spec = document["spec"] if document["kind"] == "RayCluster" else document["spec"]["rayClusterSpec"]
        specs.append((path.name, document, spec))
    return specs


@pytest.mark.parametrize("name,document,spec", _manifest_clusters(), ids=[n for n, _, _ in _manifest_clusters()])
def test_kuberay_manifests(name, document, spec):
    assert document["apiVersion"] == "ray.io/v1" and document["kind"] in ("RayCluster", "RayJob")
    assert spec["enableInTreeAutoscaling"] is True, "the autoscaler runs beside the head"
    head = spec["headGroupSpec"]
    assert head["rayStartParams"]["num-cpus"] == "0", "the head runs no model replica"
    (gpu_group,) = spec["workerGroupSpecs"]
    assert gpu_group["minReplicas"] == 0 and gpu_group["maxReplicas"] >= 1
    assert gpu_group["rayStartParams"]["num-gpus"] == "1"
    pod = gpu_group["template"]["spec"]
    (container,) = pod["containers"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert any(t["key"] == "nvidia.com/gpu" for t in pod["tolerations"]), "GPU nodes are usually tainted"
    for group_pod in (head["template"]["spec"], pod):
        env = {e["name"]: e for e in group_pod["containers"][0]["env"]}
        assert env["RAY_AUTH_MODE"]["value"] == "token"
        assert "secretKeyRef" in env["RAY_AUTH_TOKEN"]["valueFrom"], "the token comes from a Secret"
    if document["kind"] == "RayJob":
        assert document["spec"]["entrypoint"].startswith("python -m posering.cli jobs run analyze ")
        assert document["spec"]["shutdownAfterJobFinishes"] is True


def test_the_rayjob_entrypoint_parses_with_the_analyze_job():
    """The manifest's command line is one the job's own command accepts."""
    import shlex

    from posering.cluster.jobs import job_command

    document = yaml.safe_load((REPO / "deploy" / "rayjob-analyze.yaml").read_text())
    argv = shlex.split(document["spec"]["entrypoint"])[5:]
    context = job_command("analyze").make_context("analyze", argv)
    assert context.params["num_workers"] == "8" and context.params["gpus_per_worker"] == "1"
