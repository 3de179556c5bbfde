"""Finding the edges of a damaged stretch of a video by seeking, not by decoding it all.

A damaged stretch is contiguous: the frames before it decode, then none until the first one a
seek past it can reach. So a search probes with ``readable(index)`` (seek there and try to decode
one frame) in doubling steps from one end, then bisects between the first hit and the miss before
it: a few dozen seeks, however long the video.
"""

from __future__ import annotations

from typing import Callable

Readable = Callable[[int], bool]


def last_readable(readable: Readable, low: int, high: int) -> int | None:
    """The last frame in ``[low, high]`` a seek decodes (None: none does), probed back from ``high``."""
    miss, step, probe_at = high + 1, 1, high
    while low <= high:
        if readable(probe_at):
            return bisect(readable, probe_at, miss)
        if probe_at == low:
            break
        miss, probe_at, step = probe_at, max(probe_at - step, low), step * 2
    return None


def first_readable(readable: Readable, low: int, high: int) -> int | None:
    """The first frame in ``[low, high]`` a seek decodes, probed forward from ``low`` the same way."""
    miss, step, probe_at = low - 1, 1, low
    while low <= high:
        if readable(probe_at):
            return bisect(readable, probe_at, miss)
        if probe_at == high:
            break
        miss, probe_at, step = probe_at, min(probe_at + step, high), step * 2
    return None


def bisect(readable: Readable, hit: int, miss: int) -> int:
    """The readable frame next to ``miss``, between the two."""
    while abs(miss - hit) > 1:
        middle = (hit + miss) // 2
        if readable(middle):
            hit = middle
        else:
            miss = middle
    return hit
