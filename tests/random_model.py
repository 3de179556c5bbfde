"""A seeded, untrained network installed into a project's shuffle 1: for tests that pin analysis
mechanics rather than accuracy, and for the throughput and memory benchmarks."""

from __future__ import annotations

from pathlib import Path


def install_random_model(config_path: str, net_type: str = "mobilenet_v4_small", epoch: int = 5) -> None:
    """Give a project's shuffle 1 a seeded, untrained network (for throughput and memory
    benchmarks and for tests that pin analysis mechanics, not accuracy)."""
    import torch

    from posering.model.build import build_model, save_snapshot
    from posering.model.config import make_model_config, parse_model_config, save_model_config
    from posering.project import ProjectConfig, ProjectPaths

    config = ProjectConfig.load(config_path)
    paths = ProjectPaths(config)
    model_config_file = paths.model_config_file(0.95, 1)
    model_config = make_model_config(net_type, config.bodyparts, config.project_path, model_config_file)
    save_model_config(model_config, model_config_file)
    torch.manual_seed(0)
    model = build_model(parse_model_config(model_config, model_config_file))
    save_snapshot(paths.train_dir(0.95, 1) + f"/snapshot-{epoch:03d}.pt", model, {"epoch": epoch})


def random_model_project(work: Path, net_type: str) -> str:
    """A small demo project under ``work/project`` with an untrained ``net_type``; its config."""
    from posering.demo.run import make_demo_project

    config_path = make_demo_project(str(work / "project"), nframes=60, nlabeled=5)
    install_random_model(config_path, net_type, epoch=1)
    return config_path
