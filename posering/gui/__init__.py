"""The desktop client (Dear PyGui): label, extract by hand, check and refine.

Layout: :mod:`posering.gui.state` holds what the client knows and does, in plain Python (no
Dear PyGui, tested without a screen); :mod:`posering.gui.app` is the window (navigation, the
frame loop, closing); :mod:`posering.gui.views` holds one file per view, each only translating
events into state actions and state into widgets. Nothing here imports Dear PyGui until the
window opens (:func:`posering.gui.launch.gui`).
"""
