"""A run's progress inside a view: bars, the one-line state, Cancel, and Details one click away.

A view owns one :class:`RunPanel` per kind of run it starts (Train's training, Analyze's
analysis). :meth:`RunPanel.start` refuses a second run while one is going. Widgets are updated in
:meth:`RunPanel.tick` (the view's frame hook), and only when the run reported something new.
"""

from __future__ import annotations

from typing import Callable

import dearpygui.dearpygui as dpg

from posering.gui import theme
from posering.gui.state.runs import DONE, FAILED, Call, Run


def files_changed(app, source=None) -> None:
    """A run wrote project files (frames, machine labels): every other view refreshes its lists."""
    for view in app.views:
        if view is not source:
            app.guard(view.on_files_changed)


class RunPanel:
    """Progress of one run: an overall bar, one bar per call when there are several, the state line."""

    def __init__(self, app, tag: str, rows: bool = True):
        self.app = app
        self.tag = tag
        self.rows = rows  # one bar per call (per video) when a run has several calls
        self.run: Run | None = None
        self.on_done: Callable[[Run], None] | None = None
        self.on_update: Callable[[Run], None] | None = None
        self._changed = False

    def build(self, parent=0, width: int = -1) -> None:
        t = self.tag
        with dpg.group(tag=t, show=False, **({"parent": parent} if parent else {})):
            with dpg.group(horizontal=True):
                dpg.add_progress_bar(tag=f"{t}.bar", width=width if width > 0 else 420, default_value=0.0,
                                     overlay="")
                dpg.add_button(label="Cancel", tag=f"{t}.cancel", enabled=False, callback=lambda: self.cancel())
                dpg.add_button(label="Details", tag=f"{t}.details", enabled=False,
                               callback=lambda: self.show_details())
            dpg.add_text("", tag=f"{t}.line", wrap=900)
            dpg.add_group(tag=f"{t}.rows")

    @property
    def busy(self) -> bool:
        return self.run is not None and self.run.active

    def start(self, title: str, calls: list[Call], on_done: Callable[[Run], None] | None = None,
              on_update: Callable[[Run], None] | None = None, env: dict | None = None) -> Run | None:
        """Start a run (None if one is already going here)."""
        if self.busy:
            self.app.status(f"{self.run.title} is still running; wait for it or cancel it", error=True)
            return None
        self.on_done, self.on_update = on_done, on_update
        self.run = self.app.runs.start(Run(title, calls, on_change=self._mark), env=env)
        dpg.configure_item(self.tag, show=True)
        self._build_rows()
        self._changed = True
        self.tick()
        return self.run

    def cancel(self) -> None:
        if self.busy:
            self.run.cancel()

    def show_details(self) -> None:
        if self.run is not None:
            self.app.show_details(self.run.title, self.run.details())

    def _mark(self, run: Run) -> None:
        self._changed = True
        if self.on_update is not None:
            self.on_update(run)
        if not run.active and run is self.run:
            self._finish(run)

    def _finish(self, run: Run) -> None:
        if run.state == FAILED:
            self.app.status(f"{run.title} failed: {run.error}", error=True)
        else:
            self.app.status(run.summary())
        if run.state == DONE and self.on_done is not None:
            self.on_done(run)

    # -- widgets ---------------------------------------------------------------------------------------
    def _build_rows(self) -> None:
        rows = f"{self.tag}.rows"
        dpg.delete_item(rows, children_only=True)
        if not self.rows or len(self.run.calls) < 2:
            return
        with dpg.table(parent=rows, header_row=False, policy=dpg.mvTable_SizingStretchProp,
                       scrollY=len(self.run.calls) > 8, height=min(8, len(self.run.calls)) * 30 + 6):
            dpg.add_table_column(init_width_or_weight=0.45)
            dpg.add_table_column(init_width_or_weight=0.55)
            for i, call in enumerate(self.run.calls):
                with dpg.table_row():
                    dpg.add_text(call.label)
                    dpg.add_progress_bar(tag=f"{self.tag}.row.{i}", width=-1, default_value=0.0, overlay="")

    def tick(self) -> None:
        if not self._changed or self.run is None:
            return
        self._changed = False
        run, t = self.run, self.tag
        fraction = run.fraction()
        dpg.set_value(f"{t}.bar", fraction)
        dpg.configure_item(f"{t}.bar", overlay=f"{100 * fraction:.0f}%" if run.state != FAILED else "failed")
        dpg.set_value(f"{t}.line", run.summary())
        color = theme.ERROR if run.state == FAILED else (theme.STATUS if not run.active else theme.TEXT)
        dpg.configure_item(f"{t}.line", color=color)
        dpg.configure_item(f"{t}.cancel", enabled=run.active and not run.cancelling)
        dpg.configure_item(f"{t}.details", enabled=True)
        if self.rows and len(run.calls) > 1:
            for i in range(len(run.calls)):
                value = run.call_fraction(i)
                state = "done" if run.finished[i] else ("" if i != run.index or not run.active else "running")
                if not run.active and not run.finished[i]:
                    state = run.state if i == run.index else "not run"
                dpg.set_value(f"{t}.row.{i}", value)
                dpg.configure_item(f"{t}.row.{i}", overlay=state if state != "running" else f"{100 * value:.0f}%")
