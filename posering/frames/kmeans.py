"""Choosing which frames of a video to label: uniform at random, or k-means on what frames look like.

Both choosers are seeded (same video, same seed, same frames) and both take an ``exclude`` set:
frames already in ``labeled-data/<video>/`` are never chosen again, so running extraction twice
adds new frames instead of picking the old ones.

k-means never holds the video: frames are decoded in one forward pass over a strided sample and
each is shrunk at once to a thumbnail ``cluster_resizewidth`` pixels wide (grayscale unless
``cluster_color``). Only thumbnails are kept (a 30x22 one is 2.6 kB), so memory stays small on
hour-long videos. Long videos get a larger stride (about :data:`TARGET_CANDIDATES` candidates),
but never one so large that the reader would seek per frame: in H.264 a seek decodes from the
previous keyframe, so seeking for every candidate costs more than one forward pass.
Clustering uses scikit-learn's MiniBatchKMeans with ``numframes2pick`` clusters; from each
cluster the frame nearest its centre is taken, so the chosen frames look different.
"""

from __future__ import annotations

import logging
import math
import zlib

import cv2
import numpy as np

log = logging.getLogger("posering.frames")

# About this many thumbnails are clustered: more would not make 20-ish clusters better, only
# slower to retrieve (converting a decoded frame costs as much as decoding it).
TARGET_CANDIDATES = 2000
# The largest automatic stride: VideoReader.frames decodes forward (grab) up to this stride and
# seeks per frame above it.
ONE_PASS_STRIDE = 24


def candidate_range(nframes: int, start: float, stop: float) -> tuple[int, int]:
    """First and one-past-last frame between the ``start`` and ``stop`` fractions of the video."""
    first = int(math.floor(nframes * float(start)))
    end = min(nframes, int(math.ceil(nframes * float(stop))))
    return first, max(first, end)


def rng_for(seed: int, video_name: str) -> np.random.Generator:
    """A generator seeded by ``seed`` and the video's name: reproducible, different per video."""
    return np.random.default_rng([int(seed), zlib.crc32(video_name.encode("utf-8"))])


def pick_uniform(nframes: int, numframes: int, start: float, stop: float, rng: np.random.Generator,
                 exclude: set[int] = frozenset()) -> list[int]:
    """``numframes`` distinct frames drawn at random from the candidate range, sorted."""
    first, end = candidate_range(nframes, start, stop)
    pool = np.array([i for i in range(first, end) if i not in exclude], dtype=int)
    if len(pool) <= numframes:
        return pool.tolist()
    return sorted(rng.choice(pool, size=numframes, replace=False).tolist())


def thumbnail(frame: np.ndarray, width: int, color: bool) -> np.ndarray:
    """The frame shrunk to ``width`` pixels wide (area averaging), flattened to float32."""
    height = max(1, round(frame.shape[0] * width / frame.shape[1]))
    if not color:
        frame = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    return small.astype(np.float32).ravel()


def sample_thumbnails(reader, start: float, stop: float, cluster_step: int = 1,
                      cluster_resizewidth: int = 30, cluster_color: bool = False,
                      exclude: set[int] = frozenset(),
                      target: int = TARGET_CANDIDATES) -> tuple[np.ndarray, np.ndarray]:
    """(frame indices, thumbnails) of a strided sample, decoded in one forward pass."""
    first, end = candidate_range(reader.frame_count, start, stop)
    automatic = min(ONE_PASS_STRIDE, math.ceil((end - first) / target))
    step = max(int(cluster_step), automatic, 1)
    if step > cluster_step:
        log.info("%s: clustering every %d-th frame (%d candidates)", reader.location, step,
                 len(range(first, end, step)))
    indices, thumbs = [], []
    for index, frame in reader.frames(first, end, step):
        if index in exclude:
            continue
        indices.append(index)
        thumbs.append(thumbnail(frame, int(cluster_resizewidth), cluster_color))
    if not thumbs:
        return np.zeros(0, dtype=int), np.zeros((0, 0), dtype=np.float32)
    return np.asarray(indices, dtype=int), np.stack(thumbs)


def pick_kmeans(indices: np.ndarray, thumbs: np.ndarray, numframes: int,
                rng: np.random.Generator) -> list[int]:
    """One frame per k-means cluster of the thumbnails (the one nearest its centre), sorted."""
    from sklearn.cluster import MiniBatchKMeans
    from threadpoolctl import threadpool_limits

    if len(indices) <= numframes:
        return sorted(int(i) for i in indices)
    # Removing the mean thumbnail does not change the clusters but keeps the numbers small.
    data = thumbs - thumbs.mean(axis=0, keepdims=True)
    kmeans = MiniBatchKMeans(n_clusters=numframes, tol=1e-3, max_iter=50, n_init=3,
                             batch_size=min(1024, max(100, len(data) // 2)),
                             random_state=int(rng.integers(2**31 - 1)))
    # One thread: these matrices are small, and BLAS/OpenMP threads spinning against the video
    # decoder (or other workers on the machine) made clustering 20x slower in measurements.
    with threadpool_limits(1):
        labels = kmeans.fit_predict(data)
    chosen = []
    for cluster in range(numframes):
        members = np.flatnonzero(labels == cluster)
        if len(members) == 0:
            continue
        distances = np.linalg.norm(data[members] - kmeans.cluster_centers_[cluster], axis=1)
        chosen.append(int(indices[members[np.argmin(distances)]]))
    # An empty cluster leaves a frame short; top up at random so the count is what was asked.
    rest = np.setdiff1d(indices, chosen)
    if len(chosen) < numframes and len(rest):
        chosen += rng.choice(rest, size=min(len(rest), numframes - len(chosen)), replace=False).tolist()
    return sorted(int(i) for i in set(chosen))
