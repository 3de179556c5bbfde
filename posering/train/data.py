"""Training data: labeled frames as a torch Dataset, and a DataLoader fit for the device.

Items are ``(image, keypoints)``: the augmented RGB image as a uint8 (H, W, 3) array and its
(K, 2) float32 keypoints (NaN = missing). Batches stay uint8 until they reach the device, which
normalises them (a quarter of the bytes to copy, and the arithmetic runs where it is fastest).

Images are read through :mod:`posering.storage`, so a project on s3 trains like a local one; for
remote projects the encoded files are kept in memory after the first read (bounded), so every
epoch does not download them again.
"""

from __future__ import annotations

import os

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, get_worker_info

from posering import storage
from posering.errors import DatasetError
from posering.train.augment import Augmenter

# Memory for encoded images of a remote project, per process.
REMOTE_CACHE_BYTES = 1 << 30


def read_image(location: str) -> np.ndarray:
    """An image file (local path or URL) as RGB uint8 (H, W, 3)."""
    return decode_image_bytes(storage.read_bytes(location), location)


def decode_image_bytes(data: bytes, location: str) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise DatasetError(f"{location}: not a readable image (a labeled frame of the training set)")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


class PoseDataset(Dataset):
    """Labeled frames (a subset of a training set), augmented when an augmenter is given.

    root: project folder; relpaths: image paths relative to it; keypoints: (N, K, 2).
    seed: augmentation randomness is a function of this seed (and the DataLoader's per-worker
    seeds), so a run can be repeated.
    """

    def __init__(self, root: str, relpaths: list[str], keypoints: np.ndarray,
                 augmenter: Augmenter | None = None, seed: int = 0):
        if len(relpaths) != len(keypoints):
            raise ValueError("one keypoint array per image is needed")
        self.root = root
        self.relpaths = list(relpaths)
        self.keypoints = np.asarray(keypoints, dtype=np.float32)
        self.augmenter = augmenter
        self.seed = seed
        self._remote = storage.is_remote(root)
        self._cache: dict[int, bytes] = {}
        self._cached_bytes = 0
        self._rng: np.random.Generator | None = None
        self._rng_owner: tuple | None = None

    @classmethod
    def from_training_set(cls, training_set, which: str, augmenter: Augmenter | None = None,
                          seed: int = 0) -> "PoseDataset":
        rows = training_set.subset(which)
        return cls(training_set.root, [training_set.relpaths[i] for i in rows],
                   training_set.keypoints[rows], augmenter, seed)

    def __len__(self) -> int:
        return len(self.relpaths)

    def location(self, i: int) -> str:
        return storage.join(self.root, *self.relpaths[i].split("/"))

    def image(self, i: int) -> np.ndarray:
        """The i-th image, unaugmented (RGB uint8)."""
        location = self.location(i)
        data = self._cache.get(i)
        if data is None:
            data = storage.read_bytes(location)
            if self._remote and self._cached_bytes + len(data) <= REMOTE_CACHE_BYTES:
                self._cache[i] = data
                self._cached_bytes += len(data)
        return decode_image_bytes(data, location)

    def rng(self) -> np.random.Generator:
        """This process's generator: re-seeded in each worker from torch's per-worker seed."""
        info = get_worker_info()
        owner = (os.getpid(), info.seed if info else None)
        if self._rng is None or owner != self._rng_owner:
            seed = info.seed if info else self.seed
            self._rng = np.random.default_rng(seed % 2**63)
            self._rng_owner = owner
        return self._rng

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        image = self.image(i)
        keypoints = self.keypoints[i]
        if self.augmenter is not None:
            image, keypoints = self.augmenter(image, keypoints, self.rng())
        return image, keypoints


def pad_collate(batch: list[tuple[np.ndarray, np.ndarray]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack images into (N, H, W, 3) uint8, zero-padding right and bottom to the largest.

    Padding at the far sides moves no keypoint, so images of different sizes (e.g. without
    crop_sampling) still share a batch.
    """
    height = max(image.shape[0] for image, _ in batch)
    width = max(image.shape[1] for image, _ in batch)
    images = torch.zeros((len(batch), height, width, 3), dtype=torch.uint8)
    for n, (image, _) in enumerate(batch):
        images[n, : image.shape[0], : image.shape[1]] = torch.from_numpy(np.ascontiguousarray(image))
    keypoints = torch.from_numpy(np.stack([kp for _, kp in batch]).astype(np.float32))
    return images, keypoints


def default_workers(device: torch.device, requested) -> int:
    """Loader processes: as asked when > 0; else none on CPU and up to 8 on CUDA.

    On the CPU, workers would take cores from the network itself (augmentation costs ~10 ms per
    image against ~1 s of resnet_50 compute); on a GPU the loader must keep up with the device,
    and DeepLabCut's default of 0 workers is what starves it.
    """
    if requested not in (None, "auto") and int(requested) > 0:
        return int(requested)
    if device.type == "cuda":
        return max(1, min(8, (os.cpu_count() or 2) - 1))
    return 0


def make_loader(dataset: Dataset, batch_size: int, device: torch.device, shuffle: bool = True,
                workers=None, seed: int = 0, drop_last: bool = False) -> DataLoader:
    """A DataLoader of uint8 batches: worker processes and pinned memory where they help."""
    workers = default_workers(device, workers)
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, num_workers=workers,
                      collate_fn=pad_collate, pin_memory=device.type == "cuda",
                      drop_last=drop_last and len(dataset) > batch_size, generator=generator,
                      persistent_workers=workers > 0, prefetch_factor=4 if workers else None)
