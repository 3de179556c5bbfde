"""A project: its config.yaml and the one place that knows its paths."""

from posering.project.config import Crop, ProjectConfig
from posering.project.paths import ProjectPaths

__all__ = ["Crop", "ProjectConfig", "ProjectPaths", "load_config"]


def load_config(config) -> ProjectConfig:
    """A ProjectConfig from a path/URL of config.yaml (or its folder), or one already loaded."""
    return config if isinstance(config, ProjectConfig) else ProjectConfig.load(str(config))
