"""Keypoint-aware training augmentation, built from a model config's ``data.train`` section.

An augmentation takes one RGB uint8 image (H, W, 3) and its keypoints (K, 2) (x, y in pixels,
NaN = not labeled) and returns a new image and keypoints. A keypoint that leaves the image (a
rotation, a crop) becomes NaN: missing is honest, a clipped coordinate would be a wrong label.

The steps, in DeepLabCut 3's order, each switched on by its key (DeepLabCut's key names):

* ``hflip``: mirror left-right; bodypart pairs such as leftear/rightear swap names so the labels
  stay true (pairs from ``hflip.symmetries``, else guessed from left/right in the names);
* ``affine``: random scale, rotation and translation (albumentations ``Affine``);
* ``crop_sampling``: a fixed-size window (pad when the image is smaller), centred on a labeled
  keypoint ("keypoints"), anywhere ("uniform"), or either at random ("hybrid"). A fixed size is
  also what lets images of different sizes share a batch;
* image-only changes on the crop: ``motion_blur``, ``gaussian_noise`` (std in 0..255 units),
  ``brightness_contrast``, ``hist_eq``, ``grayscale`` (albumentations).

Normalisation is not done here: batches travel to the device as uint8 (4x less to copy) and
are normalised there (:func:`posering.train.loop.normalize`). Inference needs no augmentation,
only that normalisation.
"""

from __future__ import annotations

import logging
import re

import albumentations as A
import cv2
import numpy as np

log = logging.getLogger("posering.train")

# Keys of data.train that posering applies; anything else set (non-null, non-false) is
# reported once so that a DeepLabCut setting posering ignores is never silently dropped.
KNOWN_KEYS = {"hflip", "affine", "crop_sampling", "motion_blur", "gaussian_noise",
              "brightness_contrast", "hist_eq", "grayscale", "normalize_images",
              "scale_to_unit_range", "collate"}


def symmetric_pairs(bodyparts: list[str], given=None) -> list[tuple[int, int]]:
    """Index pairs of mirror-image bodyparts: from ``given`` (names or indices) or guessed.

    Guessing pairs names that differ only by left/right (any case, also ``l``/``r`` as a whole
    word part): ``leftear``/``rightear``, ``paw_L``/``paw_R``, ``Left Hand``/``Right Hand``.
    """
    index = {name: i for i, name in enumerate(bodyparts)}
    if given:
        pairs = []
        for a, b in given:
            pairs.append((index[a] if isinstance(a, str) else int(a),
                          index[b] if isinstance(b, str) else int(b)))
        return pairs

    def mirrored(name: str) -> str | None:
        swaps = [(r"left", "right"), (r"right", "left"), (r"Left", "Right"), (r"Right", "Left"),
                 (r"LEFT", "RIGHT"), (r"RIGHT", "LEFT")]
        for pattern, repl in swaps:
            if pattern in name:
                return name.replace(pattern, repl, 1)
        for pattern, repl in [(r"(^|[_\-\s])l($|[_\-\s])", r"\1r\2"), (r"(^|[_\-\s])r($|[_\-\s])", r"\1l\2"),
                              (r"(^|[_\-\s])L($|[_\-\s])", r"\1R\2"), (r"(^|[_\-\s])R($|[_\-\s])", r"\1L\2")]:
            if re.search(pattern, name):
                return re.sub(pattern, repl, name, count=1)
        return None

    pairs = []
    for name, i in index.items():
        j = index.get(mirrored(name) or "")
        if j is not None and i < j:
            pairs.append((i, j))
    return pairs


class Augmenter:
    """A callable ``(image, keypoints, rng) -> (image, keypoints)`` for one model config."""

    def __init__(self, train_cfg: dict | None, bodyparts: list[str]):
        cfg = dict(train_cfg or {})
        ignored = sorted(k for k, v in cfg.items() if k not in KNOWN_KEYS and v not in (None, False))
        if ignored:
            log.warning("data.train: %s set but not applied by posering (ignored)", ", ".join(ignored))
        if cfg.get("scale_to_unit_range"):
            log.warning("data.train.scale_to_unit_range is ignored: posering always normalises "
                        "with ImageNet mean/std, as DeepLabCut's normalize_images does")

        flip = cfg.get("hflip")
        self.flip_p = 0.0
        self.flip_pairs: list[tuple[int, int]] = []
        if flip:
            self.flip_p = float(flip.get("p", 0.5)) if isinstance(flip, dict) else (
                0.5 if flip is True else float(flip))
            given = flip.get("symmetries") if isinstance(flip, dict) else None
            self.flip_pairs = symmetric_pairs(bodyparts, given)
            log.info("hflip p=%.2f, swapping %s", self.flip_p,
                     [(bodyparts[a], bodyparts[b]) for a, b in self.flip_pairs] or "no pairs")

        self.affine = _affine(cfg.get("affine"))
        crop = cfg.get("crop_sampling")
        self.crop = None
        if crop:
            method = crop.get("method", "hybrid")
            if method not in ("hybrid", "uniform", "keypoints", "density"):
                raise ValueError(f"data.train.crop_sampling.method {method!r}: use hybrid, uniform "
                                 "or keypoints")
            self.crop = (int(crop["width"]), int(crop["height"]),
                         float(crop.get("max_shift", 0.1)), method)
        self.pixels = _pixel_transforms(cfg)

    @property
    def output_size(self) -> tuple[int, int] | None:
        """(width, height) of every output image, or None when sizes follow the inputs."""
        return (self.crop[0], self.crop[1]) if self.crop else None

    def __call__(self, image: np.ndarray, keypoints: np.ndarray,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        keypoints = np.asarray(keypoints, dtype=np.float32).copy()
        if self.flip_p and rng.random() < self.flip_p:
            image, keypoints = hflip(image, keypoints, self.flip_pairs)
        if self.affine is not None:
            image, keypoints = _apply_keypoint_transform(self.affine, image, keypoints, rng)
        if self.crop is not None:
            width, height, max_shift, method = self.crop
            image, keypoints = crop_around_keypoints(image, keypoints, width, height, max_shift,
                                                     method, rng)
        if self.pixels is not None:
            self.pixels.set_random_seed(int(rng.integers(2**31)))
            image = self.pixels(image=image)["image"]
        return np.ascontiguousarray(image), _outside_to_nan(keypoints, image.shape)


def hflip(image: np.ndarray, keypoints: np.ndarray, pairs: list[tuple[int, int]]):
    """Mirror the image; x -> W-1-x (pixel centres at integers), then swap left/right pairs."""
    width = image.shape[1]
    image = image[:, ::-1]
    keypoints = keypoints.copy()
    keypoints[:, 0] = width - 1 - keypoints[:, 0]
    for a, b in pairs:
        keypoints[[a, b]] = keypoints[[b, a]]
    return image, keypoints


def crop_around_keypoints(image: np.ndarray, keypoints: np.ndarray, width: int, height: int,
                          max_shift: float, method: str, rng: np.random.Generator):
    """A ``width`` x ``height`` window of the image (zero-padded, centred, when smaller)."""
    h, w = image.shape[:2]
    pad_x, pad_y = max(0, width - w), max(0, height - h)
    if pad_x or pad_y:
        left, top = pad_x // 2, pad_y // 2
        image = cv2.copyMakeBorder(image, top, pad_y - top, left, pad_x - left,
                                   cv2.BORDER_CONSTANT, value=0)
        keypoints = keypoints + np.array([left, top], dtype=np.float32)
        h, w = image.shape[:2]
    labeled = np.flatnonzero(np.isfinite(keypoints).all(axis=1))
    around_keypoint = method == "keypoints" or (method in ("hybrid", "density") and rng.random() < 0.5)
    if around_keypoint and len(labeled):
        # Centre on a labeled keypoint, moved by up to max_shift of the window size.
        cx, cy = keypoints[rng.choice(labeled)]
        cx += rng.uniform(-max_shift, max_shift) * width
        cy += rng.uniform(-max_shift, max_shift) * height
        x0 = int(round(np.clip(cx - width / 2, 0, w - width)))
        y0 = int(round(np.clip(cy - height / 2, 0, h - height)))
    else:
        x0 = int(rng.integers(0, w - width + 1))
        y0 = int(rng.integers(0, h - height + 1))
    crop = image[y0:y0 + height, x0:x0 + width]
    return crop, keypoints - np.array([x0, y0], dtype=np.float32)


def _outside_to_nan(keypoints: np.ndarray, shape) -> np.ndarray:
    h, w = shape[:2]
    x, y = keypoints[:, 0], keypoints[:, 1]
    inside = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
    keypoints = keypoints.copy()
    keypoints[~inside] = np.nan
    return keypoints


def _affine(cfg) -> A.Compose | None:
    """albumentations Affine from DeepLabCut's ``affine: {p, rotation, scaling, translation}``."""
    if not cfg:
        return None
    rotation = float(cfg.get("rotation", 0) or 0)
    scaling = cfg.get("scaling") or [1.0, 1.0]
    translation = int(cfg.get("translation", 0) or 0)  # pixels, as DeepLabCut reads it
    affine = A.Affine(scale=(float(scaling[0]), float(scaling[1])), rotate=(-rotation, rotation),
                      translate_px=(-translation, translation), keep_ratio=True,
                      border_mode=cv2.BORDER_CONSTANT, fill=0, p=float(cfg.get("p", 0.5)))
    return A.Compose([affine], keypoint_params=A.KeypointParams(
        format="xy", label_fields=["ids"], remove_invisible=False))


def _apply_keypoint_transform(transform: A.Compose, image, keypoints, rng):
    # albumentations draws from its own generator; seed it from ours so runs are reproducible.
    transform.set_random_seed(int(rng.integers(2**31)))
    valid = np.flatnonzero(np.isfinite(keypoints).all(axis=1))
    out = transform(image=image, keypoints=keypoints[valid], ids=valid)
    moved = np.full_like(keypoints, np.nan)
    if len(out["ids"]):
        moved[np.asarray(out["ids"], dtype=int)] = np.asarray(out["keypoints"], dtype=np.float32)[:, :2]
    return out["image"], moved


def _pixel_transforms(cfg: dict) -> A.Compose | None:
    steps = []
    if cfg.get("hist_eq"):
        steps.append(A.Equalize(p=0.5))
    if cfg.get("motion_blur"):
        blur = cfg["motion_blur"]
        steps.append(A.MotionBlur(blur_limit=(3, 7), p=float(blur.get("p", 0.5)) if isinstance(blur, dict) else 0.5))
    noise = cfg.get("gaussian_noise")
    if noise:
        std = 12.75 if noise is True else float(noise)
        # DeepLabCut's value is a standard deviation in 0..255 units; albumentations 2 takes it
        # as a fraction of the image's maximum value.
        steps.append(A.GaussNoise(std_range=(0.0, std / 255.0), per_channel=True, p=0.5))
    contrast = cfg.get("brightness_contrast")
    if contrast:
        opts = contrast if isinstance(contrast, dict) else {}
        steps.append(A.RandomBrightnessContrast(
            brightness_limit=opts.get("brightness_limit", 0.2),
            contrast_limit=opts.get("contrast_limit", 0.2), p=float(opts.get("p", 0.5))))
    if cfg.get("grayscale"):
        gray = cfg["grayscale"]
        steps.append(A.ToGray(p=float(gray.get("p", 0.5)) if isinstance(gray, dict) else 0.5))
    return A.Compose(steps) if steps else None

