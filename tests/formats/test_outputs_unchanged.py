"""Moving the format code changed no output: the openfield workflow's files match their recording.

The recording (openfield_outputs.json) was made by ``python -m tests.formats.openfield_outputs
--write`` on the code before the formats moved into ``posering.formats``; see that module for
what is compared and why HDF5 files are compared node by node rather than byte by byte. Files
that hold the network's numbers are compared only in the environment they were recorded in
(same libraries and CPU instruction set): elsewhere floating-point sums may round differently.
"""

import json

import pytest

from tests.conftest import SHARED_DATA, needs_shared_data
from tests.formats.openfield_outputs import RECORDING, digests, environment, model_free, run_pipeline

pytestmark = [needs_shared_data, pytest.mark.slow]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    root = run_pipeline(SHARED_DATA, tmp_path_factory.mktemp("openfield-outputs"))
    return digests(root)


def _recorded() -> dict:
    return json.loads(RECORDING.read_text())


def _differences(found: dict, recorded: dict, keep) -> list[str]:
    names = sorted(n for n in set(found) | set(recorded) if keep(n) and n in recorded)
    return [f"{n}: {'missing' if n not in found else 'changed'}" for n in names if found.get(n) != recorded[n]]


def test_labels_and_training_sets_are_unchanged(outputs):
    recording = _recorded()
    if recording["environment"]["libraries"] != environment()["libraries"]:
        pytest.skip("recorded with other library versions: CSV and HDF5 writers may differ; "
                    "record again on the reference code (see tests/formats/openfield_outputs.py)")
    assert _differences(outputs, recording["files"], model_free) == []


def test_network_outputs_are_unchanged(outputs):
    recording = _recorded()
    if recording["environment"] != environment():
        pytest.skip(f"recorded on {recording['environment']['cpu']} "
                    f"({recording['environment']['cpu_capability']}, {recording['environment']['threads']} "
                    "threads, the same libraries): the network's numbers are compared only there")
    assert _differences(outputs, recording["files"], lambda n: not model_free(n)) == []
    assert len(outputs) >= len(recording["files"])
