"""What an analysis run tells the user at the end: one row per video, and what was not analysed.

Frames are counted, not believed (video/reader.py): a video whose header claims more frames than
decode gets one row per frame that does, and a damaged stretch that decoding could not pass is
skipped (its rows are NaN) while the frames after it are analysed. Both are said here, per
video, against the header's claim, so a damaged video cannot pass for a whole one.
"""

from __future__ import annotations

import logging

from posering import storage

log = logging.getLogger("posering.analyze")


def analysed_frames(job) -> int:
    """Frames of the video that were analysed (have poses)."""
    return job.info.frame_count - sum(after - first for first, after in job.skipped)


def damage_note(job) -> str:
    """What was not analysed in a finished video, and why ('' for a whole video)."""
    info, notes = job.info, []
    if job.skipped:
        stretches = ", ".join(f"{first}-{after - 1}" for first, after in job.skipped)
        notes.append(f"frames {stretches} do not decode (the file is damaged there): their rows are NaN; "
                     "a whole copy of the video would fill them")
    if info.metadata_frame_count > info.frame_count:
        notes.append(f"the header claims {info.metadata_frame_count} frames but {info.frame_count} decode "
                     f"(a truncated file?): the table has {info.frame_count} rows")
    return "; ".join(notes)


def frames_cell(job) -> str:
    """'120', or '204 of 300' when fewer frames were analysed than the header claims."""
    if job.info is None:
        return "-"
    if job.status != "done":
        return str(job.info.frame_count)
    analysed = analysed_frames(job)
    claimed = max(job.info.metadata_frame_count, job.info.frame_count)
    return str(analysed) if analysed == claimed else f"{analysed} of {claimed}"


def print_summary(jobs: list, report) -> None:
    """The table of every video (frames, status, output or problem) and the run's speed."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="analyze_videos", show_lines=False)
    for column in ("video", "frames", "status", "output / problem"):
        table.add_column(column)
    damaged = 0
    for job in jobs:
        where = job.outputs["h5"] if job.status in ("done", "skipped") else job.error
        note = damage_note(job) if job.status == "done" else ""
        if note:
            damaged += 1
            log.warning("%s: analysed %s frames; %s", job.video, frames_cell(job), note)
            where = f"{where}\n{note}"
        table.add_row(storage.name(job.video), frames_cell(job), job.status, where)
    speed = f"{report.frames / report.seconds:.1f} frames/s" if report.seconds else "nothing to analyze"
    console = Console(stderr=True)
    console.print(table)
    damage = f"; {damaged} with frames that do not decode" if damaged else ""
    console.print(f"{report.frames} frames in {report.seconds:.1f} s ({speed}); "
                  f"{sum(j.status == 'failed' for j in jobs)} failed{damage}")
