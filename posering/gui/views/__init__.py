"""The client's views, one file each; a view is added by adding a file here.

Every module in this package that defines ``VIEW`` (a :class:`View` subclass) is a view; the
navigation lists them by ``VIEW.order``. A view builds its widgets once, inside the group the app
gives it, and then only translates events into calls on its state (``posering.gui.state``) and
that state into widgets. The app calls the hooks below from its frame loop, on the main thread.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING

from posering.gui.state.keymap import Binding

if TYPE_CHECKING:
    from posering.gui.app import App
    from posering.project import ProjectConfig


class View:
    """A page of the client. Subclasses set ``title``, ``order`` and the key tables."""

    title = "View"
    order = 100
    keys: list[Binding] = []
    mouse: list[tuple[str, str]] = []

    def __init__(self, app: "App"):
        self.app = app
        self.root: int | str | None = None

    # -- built once ------------------------------------------------------------------------------------
    def build(self, parent: int | str) -> None:
        """Create the widgets inside ``parent``."""

    # -- hooks ---------------------------------------------------------------------------------------------
    def on_project(self, config: "ProjectConfig | None") -> None:
        """A project was opened (or closed)."""

    def on_show(self) -> None:
        """The view became the visible one."""

    def on_hide(self) -> None:
        """Another view is shown instead."""

    def on_key(self, key: str, ctrl: bool, shift: bool) -> bool:
        """A key pressed while this view is shown; True if it was handled."""
        return False

    def on_files_changed(self) -> None:
        """Another view (or a run) wrote project files: refresh lists of folders and images."""

    def tick(self, now: float) -> None:
        """Once per frame (timers such as autosave)."""

    def unsaved(self) -> str | None:
        """What would be lost by closing now (None: nothing)."""
        return None

    def save_all(self) -> bool:
        """Save before closing; False if that failed (the window then stays open)."""
        return True

    def close(self) -> None:
        """The window closes (after any save): release files and threads."""


def discover() -> list[type[View]]:
    """Every view class of this package, in navigation order."""
    found = []
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        view = getattr(module, "VIEW", None)
        if isinstance(view, type) and issubclass(view, View):
            found.append(view)
    return sorted(found, key=lambda v: (v.order, v.title))
