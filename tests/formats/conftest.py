"""Fixtures of the format tests: DeepLabCut 3's model files, shared with tests/model."""

from tests.model.conftest import dlc3_config, dlc3_dir  # noqa: F401  (fixtures)
