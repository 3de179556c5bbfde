"""posering: DeepLabCut-compatible single-animal pose estimation that scales out on Ray."""

__version__ = "0.1.0"
