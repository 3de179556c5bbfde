"""The desktop client (Dear PyGui): label, extract by hand, check and refine.

Layout: :mod:`posering.gui.state` holds what the client knows and does, in plain Python (no
Dear PyGui, tested without a screen); :mod:`posering.gui.app` is the window (navigation, the
frame loop, closing); :mod:`posering.gui.views` holds one file per view, each only translating
events into state actions and state into widgets. Nothing here imports Dear PyGui until the
window opens (:func:`gui`).
"""

from posering.errors import PoseringError


def gui(config: str | None = None) -> None:
    """Open the desktop client: label frames, extract frames by hand, check labels, refine.

    Parameters
    ----------
    config: path or URL of a project's config.yaml to open (optional; the window can open one).
    """
    import os

    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and os.name == "posix" \
            and not os.path.exists("/System"):  # macOS needs no DISPLAY
        raise PoseringError("no display to open a window on (DISPLAY is not set); run it on a desktop, "
                            "or under `xvfb-run posering gui` for a virtual one")
    try:
        from posering.gui.app import App
    except ImportError as exc:
        raise PoseringError(f"the desktop client needs Dear PyGui ({exc}); `pip install dearpygui`") from None
    App(config).run()
