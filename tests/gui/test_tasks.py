"""Work off the main thread comes back through the queue; the newest seek wins; images are
prepared once and shrunk to the view."""

import threading
import time

import numpy as np

from posering.errors import LabelsError
from posering.gui.state.images import ImageCache, prepare
from posering.gui.state.tasks import Latest, Tasks


def test_results_and_errors_come_back_only_when_drained():
    tasks = Tasks()
    got, errors = [], []
    tasks.submit(lambda a, b: a + b, 2, 3, on_done=got.append)
    tasks.submit(lambda: (_ for _ in ()).throw(LabelsError("x.h5: broken")), on_error=errors.append)
    time.sleep(0.2)
    assert got == [] and errors == []  # nothing runs on the caller's side until drained
    assert tasks.wait(timeout=5)
    assert got == [5] and errors == ["x.h5: broken"] and tasks.busy == 0


def test_latest_runs_only_the_newest_request():
    tasks = Tasks()
    latest = Latest(tasks)
    gate = threading.Event()
    ran, shown = [], []

    def seek(index):
        if index == 0:
            gate.wait(5)  # the first seek is slow; meanwhile the slider moves on
        ran.append(index)
        return index

    latest.request(seek, 0, on_done=shown.append)
    time.sleep(0.1)
    for index in range(1, 30):
        latest.request(seek, index, on_done=shown.append)
    gate.set()
    end = time.time() + 5
    while not latest.idle and time.time() < end:
        time.sleep(0.01)
    tasks.drain()
    assert ran == [0, 29] and shown == [0, 29]
    closed = []
    latest.stop(lambda: closed.append(True))
    time.sleep(0.2)
    assert closed == [True]


def test_prepare_shrinks_large_images_and_keeps_coordinates():
    image = np.zeros((2048, 2048, 3), np.uint8)
    image[:, 1024:] = 255
    shown = prepare(image, (1000, 800))
    assert (shown.width, shown.height) == (2048, 2048)
    assert shown.texture_size == (800, 800) and shown.pixels.dtype == np.float32
    assert shown.pixels[..., 3].min() == 1.0 and shown.pixels[0, -1, 0] == 1.0 and shown.pixels[0, 0, 0] == 0.0
    small = prepare(np.full((480, 640), 128, np.uint8), (1000, 800))  # grey, already small
    assert small.texture_size == (640, 480) and abs(small.pixels[0, 0, 0] - 128 / 255) < 1e-6


def test_image_cache_prefetches_in_the_background():
    loads = []

    def loader(location):
        loads.append(location)
        return np.zeros((10, 10, 3), np.uint8)

    cache = ImageCache(max_size=(100, 100), capacity=3, loader=loader)
    cache.prefetch(["a", "b"])
    end = time.time() + 5
    while len(loads) < 2 and time.time() < end:
        time.sleep(0.01)
    time.sleep(0.05)
    cache.get("a")
    cache.get("b")
    assert loads == ["a", "b"]  # both prepared once, in the background
    for name in "cde":
        cache.get(name)
    cache.get("a")  # dropped (capacity 3): loaded again
    assert loads.count("a") == 2


def test_detail_gives_full_size_pixels_only_when_zoomed_past_the_shrunk_ones():
    image = (np.arange(2048 * 2048 * 3) % 251).astype(np.uint8).reshape(2048, 2048, 3)
    shown = prepare(image, (800, 800))
    assert shown.source is image and prepare(image[:100, :100], (800, 800)).source is None
    assert shown.detail((-0.5, -0.5, 2047.5, 2047.5), (800, 800)) is None  # whole image: shrunk is enough
    box, detail = shown.detail((99.5, 199.5, 499.5, 599.5), (800, 800))  # 400 px of image on 800 of screen
    assert box == (100, 200, 500, 600) and (detail.width, detail.height) == (400, 400)
    np.testing.assert_allclose(detail.pixels[0, 0, :3], image[200, 100] / 255, atol=1e-6)  # exact pixels
