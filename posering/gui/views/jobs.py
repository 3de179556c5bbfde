"""Jobs: submit analyze / train / compare jobs to a Ray cluster and watch them (``posering submit``
and ``posering jobs``, from the window).

Submitting runs the ``posering submit`` command itself in a run (see
:mod:`posering.gui.state.jobs`); the list, the logs and stopping are job-server requests on worker
threads. While the view is shown the list and the selected job's log refresh every
:data:`REFRESH_S` seconds.
"""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from posering.gui import theme
from posering.gui.run_panel import RunPanel
from posering.gui.state import jobs
from posering.gui.state.runs import Call
from posering.gui.views import View

REFRESH_S = 2.0


class JobsView(View):
    title = "Jobs"
    order = 90

    def __init__(self, app):
        super().__init__(app)
        self.panel = RunPanel(app, "jobs.submit_run", rows=False)
        self.rows: list[jobs.JobRow] = []
        self.selected: str | None = None
        self.address = ""
        self._asking = False
        self._next = 0.0

    def build(self, parent) -> None:
        with dpg.group(parent=parent):
            with dpg.group(horizontal=True):
                dpg.add_text("Cluster")
                self.app.text_inputs.append(dpg.add_input_text(
                    tag="jobs.address", width=420, default_value=jobs.DEFAULT_ADDRESS, on_enter=True,
                    hint="the head's job server: http://HEAD:8265", callback=lambda: self.connect()))
                dpg.add_button(label="Connect", tag="jobs.connect", callback=lambda: self.connect())
                dpg.add_text("", tag="jobs.state", color=theme.DIM)
            with dpg.collapsing_header(label="Submit a job", default_open=True):
                with dpg.group(horizontal=True):
                    dpg.add_combo(jobs.job_names(), tag="jobs.job", width=140, default_value="analyze",
                                  callback=lambda: self.fill_arguments())
                    dpg.add_text("arguments, as after `posering submit <job>`:", color=theme.DIM)
                self.app.text_inputs += [
                    dpg.add_input_text(tag="jobs.arguments", width=-1,
                                       hint="e.g. s3://lab/project/config.yaml s3://lab/videos/ --shuffle 1"),
                    dpg.add_input_text(label="environment (NAME or NAME=VALUE ...)", tag="jobs.env", width=520),
                    dpg.add_input_text(label="upload this folder with the job", tag="jobs.working_dir", width=520,
                                       hint="only when the cluster's image lacks this posering")]
                dpg.add_button(label="Submit", tag="jobs.submit", width=140, height=32, callback=lambda: self.submit())
                self.panel.build()
            dpg.add_text("Jobs", color=theme.ACCENT)
            with dpg.table(tag="jobs.table", header_row=True, borders_innerH=True, borders_outerH=True,
                           policy=dpg.mvTable_SizingStretchProp, scrollY=True, height=200):
                for label, weight in (("id", 0.22), ("status", 0.1), ("started", 0.16), ("ended", 0.16),
                                      ("entry point", 0.36)):
                    dpg.add_table_column(label=label, init_width_or_weight=weight)
            with dpg.group(horizontal=True):
                dpg.add_text("", tag="jobs.selected", color=theme.ACCENT)
                dpg.add_button(label="Stop this job", tag="jobs.stop", show=False, callback=lambda: self.stop())
            dpg.add_input_text(tag="jobs.logs", multiline=True, readonly=True, width=-1, height=-1)

    # -- the form ----------------------------------------------------------------------------------------
    def on_project(self, config) -> None:
        self.fill_arguments()

    def fill_arguments(self) -> None:
        """A starting point: the open project and its videos."""
        config = self.app.config
        if config is None or dpg.get_value("jobs.arguments").strip():
            return
        from posering.gui.state.project import project_videos

        if dpg.get_value("jobs.job") == "analyze":
            import shlex

            dpg.set_value("jobs.arguments", shlex.join([config.location, *project_videos(config)]))
        else:
            dpg.set_value("jobs.arguments", config.location)

    def submit(self) -> None:
        argv = jobs.submit_arguments(dpg.get_value("jobs.job"), dpg.get_value("jobs.arguments"),
                                     dpg.get_value("jobs.address"), dpg.get_value("jobs.env"),
                                     dpg.get_value("jobs.working_dir"))
        self.address = dpg.get_value("jobs.address").strip()
        self.panel.start(f"submit {argv[0]}", [Call(f"posering submit {argv[0]}", "posering.gui.state.jobs:submit",
                                                    {"argv": argv})], on_done=self._submitted)

    def _submitted(self, run) -> None:
        self.selected = run.results[0]
        self.app.status(f"submitted {self.selected} to {self.address}")
        self.refresh()

    # -- the list -----------------------------------------------------------------------------------------
    def connect(self) -> None:
        self.address = dpg.get_value("jobs.address").strip()
        dpg.set_value("jobs.state", "connecting...")
        self.refresh()

    def refresh(self) -> None:
        if not self.address or self._asking:
            return
        self._asking = True
        address, selected = self.address, self.selected

        def ask():
            rows = jobs.list_jobs(address)
            logs = jobs.job_logs(address, selected) if selected else ""
            return rows, logs

        self.app.tasks.submit(ask, on_done=self._listed, on_error=self._unreachable, name="jobs")

    def _listed(self, value) -> None:
        self._asking = False
        self.rows, logs = value
        dpg.set_value("jobs.state", f"{len(self.rows)} jobs on {self.address}")
        dpg.configure_item("jobs.state", color=theme.STATUS)
        for row in dpg.get_item_children("jobs.table", 1) or []:
            dpg.delete_item(row)
        colors = {"SUCCEEDED": theme.STATUS, "FAILED": theme.ERROR, "STOPPED": theme.WARNING}
        for row in self.rows:
            with dpg.table_row(parent="jobs.table"):
                dpg.add_selectable(label=row.job_id, span_columns=True, default_value=row.job_id == self.selected,
                                   user_data=row.job_id, callback=lambda s, a, u: self.select(u))
                dpg.add_text(row.status, color=colors.get(row.status, theme.ACCENT))
                dpg.add_text(row.started)
                dpg.add_text(row.ended)
                dpg.add_text(row.entrypoint)
        current = next((r for r in self.rows if r.job_id == self.selected), None)
        if current is not None:
            note = f" ({current.message})" if current.message and current.final else ""
            dpg.set_value("jobs.selected", f"{current.job_id}: {current.status}{note}")
            dpg.configure_item("jobs.stop", show=not current.final)
            dpg.set_value("jobs.logs", logs)

    def _unreachable(self, message: str) -> None:
        self._asking = False
        dpg.set_value("jobs.state", message)
        dpg.configure_item("jobs.state", color=theme.ERROR)
        self.app.status(message, error=True)

    def select(self, job_id: str) -> None:
        self.selected = job_id
        dpg.set_value("jobs.logs", "")
        self.refresh()

    def stop(self) -> None:
        if not self.selected:
            return
        address, job_id = self.address, self.selected
        self.app.tasks.submit(lambda: jobs.stop_job(address, job_id), name="stop-job",
                              on_done=lambda status: (self.app.status(f"{job_id}: {status}"), self.refresh()),
                              on_error=lambda message: self.app.status(message, error=True))

    def row(self, job_id: str) -> jobs.JobRow | None:
        return next((r for r in self.rows if r.job_id == job_id), None)

    def tick(self, now: float) -> None:
        self.panel.tick()
        if self.address and now >= self._next:
            self._next = now + REFRESH_S
            self.refresh()


VIEW = JobsView
