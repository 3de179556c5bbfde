"""What an analysis run does to each frame, as one value that names its own part files."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from posering.errors import PoseringError
from posering.project.config import Crop


@dataclass(frozen=True)
class DynamicCropping:
    """DeepLabCut's ``dynamic=(enabled, threshold, margin)``."""

    enabled: bool = False
    threshold: float = 0.5
    margin: int = 10

    @classmethod
    def parse(cls, value) -> "DynamicCropping":
        if isinstance(value, DynamicCropping):
            return value
        if value in (None, False):
            return cls()
        try:
            enabled, threshold, margin = value
        except (TypeError, ValueError):
            raise PoseringError(f"dynamic={value!r}: give (enabled, threshold, margin), e.g. (True, 0.5, 10)") from None
        if not 0 <= float(threshold) <= 1 or int(margin) < 0:
            raise PoseringError(f"dynamic={value!r}: threshold must be in [0, 1] and margin >= 0 pixels")
        return cls(bool(enabled), float(threshold), int(margin))


@dataclass(frozen=True)
class AnalysisSettings:
    batch_size: int = 8
    crop: Crop | None = None
    dynamic: DynamicCropping = DynamicCropping()
    precision: str = "auto"

    def key(self, scorer: str) -> str:
        """A short hash of everything that changes the numbers: parts of other settings never mix."""
        payload = {"scorer": scorer, "crop": str(self.crop) if self.crop else None,
                   "dynamic": asdict(self.dynamic), "precision": self.precision}
        return hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:10]

    def describe(self) -> dict:
        return {"batch_size": self.batch_size, "crop": str(self.crop) if self.crop else None,
                "dynamic": asdict(self.dynamic), "precision": self.precision}
