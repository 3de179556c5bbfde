"""What a model costs once, kept across runs: its ONNX graph and the precision it was given.

Exporting a resnet_50 to ONNX takes 3-7 s on 2 cores, and ``precision="auto"`` runs a dozen
frames in two precisions (10-20 s): a short video paid both in every run and every worker. Both
depend only on the model (its snapshot and configuration) and the software that computes them,
so they are kept in ``<cache_dir>/models/<key>/`` (``POSERING_CACHE``, else ~/.cache/posering;
the folder ``storage.local_copy`` and the keyframe index use), where ``<key>`` hashes:

* the snapshot's fingerprint (location, inode, size and modification time, or an s3 ETag): a
  retrained or replaced snapshot is a new key, and nothing stale is ever read;
* the model configuration's text, posering's, torch's and ONNX Runtime's versions.

Not beside the snapshot: a model folder may be read-only (a shared drive, a lab's published
model) or an s3 prefix that many users read, and a project moved to another machine should not
carry graphs or decisions made by another CPU. Deleting the folder (or a key's subfolder) only
costs the next run the export and the measurement again.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging

import torch

from posering import __version__, storage
from posering.project.models import ModelRef

log = logging.getLogger("posering.analyze")


def model_key(model_ref: ModelRef) -> str:
    """A key that changes whenever the snapshot, its configuration or the software changes."""
    parts = [storage.fingerprint(model_ref.snapshot.location), model_ref.model_config.text,
             __version__, torch.__version__, _version("onnxruntime"), _version("onnx")]
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()[:20]


def folder(model_ref: ModelRef) -> str:
    return storage.join(storage.cache_dir(), "models", model_key(model_ref))


def onnx_file(model_ref: ModelRef, variant: str = "fp32") -> str:
    """Where the model's ONNX graph (``variant``: fp32, or a quantized one) is kept."""
    return storage.join(folder(model_ref), f"network-{variant}.onnx")


def read_decision(model_ref: ModelRef, name: str) -> dict | None:
    """A decision measured for this model before (e.g. the precision), or None."""
    location = storage.join(folder(model_ref), f"{name}.json")
    if not storage.exists(location):
        return None
    try:
        return json.loads(storage.read_text(location))
    except ValueError:
        return None  # a damaged file is measured again


def write_decision(model_ref: ModelRef, name: str, decision: dict) -> str:
    location = storage.join(folder(model_ref), f"{name}.json")
    storage.write_text(location, json.dumps(decision, indent=1))
    return location


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "-"
