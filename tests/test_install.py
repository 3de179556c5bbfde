"""The README's install resolves at once: the dev extra's boto3 fits the botocore that s3fs pins.

moto (the dev extra's S3 server) takes any boto3, and boto3 1.X.Y needs botocore >= 1.X.Y of the
same minor line, while s3fs's aiobotocore pins botocore to a few patch releases. Without a boto3
window of its own, pip walks back through hundreds of boto3 releases (5-15 minutes, issue 19).
This test fails when the aiobotocore that pip installs today has moved its botocore window away
from the dev extra's boto3 window: move the window in pyproject.toml then.
"""

import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def dev_requirement(name: str) -> Requirement | None:
    extras = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]
    found = [Requirement(line) for line in extras["dev"] if Requirement(line).name == name]
    return found[0] if found else None


def botocore_pin_of_aiobotocore() -> Requirement:
    try:
        requires = metadata.requires("aiobotocore") or []
    except metadata.PackageNotFoundError:
        pytest.skip("aiobotocore (s3fs's S3 client) is not installed")
    return next(Requirement(line) for line in requires
                if Requirement(line).name == "botocore" and not Requirement(line).marker)


def test_dev_extra_bounds_boto3_to_the_botocore_window_of_aiobotocore():
    boto3 = dev_requirement("boto3")
    assert boto3 is not None, "the dev extra must bound boto3 (moto's) or pip backtracks for minutes"
    window = botocore_pin_of_aiobotocore().specifier
    # boto3 1.X.Y needs botocore >= 1.X.Y of minor line 1.X: a boto3 release in our window and a
    # botocore release in aiobotocore's window with the same version make a valid pair.
    bounds = sorted(Version(spec.version) for spec in boto3.specifier)
    assert len(bounds) == 2 and bounds[0].release[:2] == bounds[1].release[:2], boto3
    major, minor, low = bounds[0].release
    candidates = [Version(f"{major}.{minor}.{patch}") for patch in range(low, bounds[1].release[2] + 1)]
    pairs = [v for v in candidates if v in boto3.specifier and v in window]
    assert pairs, (f"dev extra {boto3} and aiobotocore {metadata.version('aiobotocore')}'s botocore "
                   f"{window} do not overlap: move the boto3 window in pyproject.toml")
    # Every boto3 the window allows finds a botocore at least as new in aiobotocore's window.
    assert all(v <= max(pairs) for v in candidates if v in boto3.specifier), (boto3, window)
