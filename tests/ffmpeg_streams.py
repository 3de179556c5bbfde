"""Videos whose frame times are not regular, written with the ``ffmpeg`` program.

OpenCV's wheel has no H.264 encoder and writes every frame at the nominal rate, so the streams a
camera leaves when it drops frames, or a phone's variable frame rate, are made with ``ffmpeg``
(installed by .ci/run; a test that needs it is skipped, with the reason, where it is absent).
"""

from __future__ import annotations

import shutil
import subprocess

import cv2
import numpy as np
import pytest

# Every 50 frames the last 5 are dropped: the times jump by 6 frame periods there.
DROP_FIVE_IN_FIFTY = "select='lt(mod(n\\,50)\\,45)'"
# A millisecond clock and a rate that drifts and jitters (about 22 to 45 ms apart).
VARIABLE_RATE = "settb=1/1000,setpts='N*33+12*sin(N)+N*N/40'"


def ffmpeg_or_skip() -> str:
    program = shutil.which("ffmpeg")
    if program is None:
        pytest.skip("no ffmpeg program to write H.264 and irregular frame times with (OpenCV's "
                    "wheel has neither); `apt-get install ffmpeg` runs this test")
    return program


def x264(path, extra_filter: str = "", params: str = "keyint=50:open-gop=1", count: int = 240,
         source: str | None = None) -> str:
    """An H.264 mp4 of ``count`` input frames of ``source`` (a video file; default ffmpeg's moving
    test pattern), through ``extra_filter``, keeping each frame's own time (``-fps_mode vfr``)."""
    program = ffmpeg_or_skip()
    if source:
        inputs = ["-i", str(source), *(["-vf", extra_filter] if extra_filter else [])]
    else:
        inputs = ["-f", "lavfi", "-i", "testsrc2=s=192x144:r=30" + (f",{extra_filter}" if extra_filter else "")]
    subprocess.run([program, "-v", "error", "-y", *inputs, "-frames:v", str(count), "-fps_mode", "vfr",
                    "-enc_time_base", "-1", "-c:v", "libx264", "-x264-params", params, "-pix_fmt", "yuv420p",
                    str(path)], check=True)
    return str(path)


def dropped_frames_mp4(path, **kwargs) -> str:
    return x264(path, DROP_FIVE_IN_FIFTY, **kwargs)


def variable_rate_mp4(path, **kwargs) -> str:
    return x264(path, VARIABLE_RATE, **kwargs)


def dropped_frames_avi(path, count: int = 240) -> str:
    """MJPEG in AVI: the dropped frames are empty chunks, counted by the header, never decoded."""
    program = ffmpeg_or_skip()
    subprocess.run([program, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=192x144:r=30",
                    "-vf", DROP_FIVE_IN_FIFTY, "-frames:v", str(count), "-fps_mode", "vfr",
                    "-c:v", "mjpeg", str(path)], check=True)
    return str(path)


def sequential_frames(path) -> list[np.ndarray]:
    """Every frame, decoded in order by OpenCV alone (RGB): what frame *i* must be."""
    capture = cv2.VideoCapture(str(path))
    frames = []
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                return frames
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    finally:
        capture.release()
