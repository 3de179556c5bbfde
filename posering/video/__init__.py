"""Reading and writing videos: exact frames by index, frame ranges for shards, local or s3."""

from posering.video.reader import VideoInfo, VideoReader, probe
from posering.video.writer import VideoWriter

__all__ = ["VideoInfo", "VideoReader", "VideoWriter", "probe"]
