"""An analysis job's run report: a row per video, the cluster's nodes over time, a throughput
plot and the totals, written beside the outputs (``project/paths.run_report_files``).

Everything in it comes from files the analysis wrote anyway: each video's ``_meta.yaml`` holds
the work units this run analysed (frames, node, start and end, attempts), so the report needs
nothing from the workers beyond what the outputs already record.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass, field

import pandas as pd
import yaml

from posering import storage
from posering.formats.poses import output_locations
from posering.cluster.nodes import NodeSample

STATUS_HELP = {
    "analyzed": "analysed in this run",
    "resumed": "finished in this run from parts an earlier run left",
    "done earlier": "outputs were already there: not redone",
    "failed": "no outputs: the job's log says why",
}


@dataclass
class VideoRow:
    video: str
    status: str
    frames: int | None = None  # frames of the video
    analyzed: int = 0  # frames analysed in this run
    seconds: float = 0.0  # worker seconds spent on it in this run
    frames_per_second: float | None = None  # analysed frames per worker second
    nodes: str = ""  # labels of the nodes that analysed its shards (node-1, node-2, ...)
    retries: int = 0  # work units Ray ran again after their worker died
    units: list[dict] = field(default_factory=list, repr=False)


def video_rows(videos: list[str], scorer: str, destfolder: str | None, done_before: set[str]) -> list[VideoRow]:
    rows = []
    for video in videos:
        outputs = output_locations(video, scorer, destfolder)
        if video in done_before:
            meta = _read_meta(outputs["meta"])
            rows.append(VideoRow(video, "done earlier", frames=(meta.get("video") or {}).get("nframes")))
        elif storage.exists(outputs["h5"]):
            meta = _read_meta(outputs["meta"])
            this = meta.get("run", {}).get("this_video") or {}
            frames = meta.get("video", {}).get("nframes")
            analyzed, seconds = int(this.get("frames", 0)), float(this.get("worker_seconds", 0.0))
            rows.append(VideoRow(video, "resumed" if frames and analyzed < frames else "analyzed",
                                 frames=frames, analyzed=analyzed, seconds=round(seconds, 2),
                                 frames_per_second=round(analyzed / seconds, 1) if seconds else None,
                                 retries=int(this.get("retries", 0)), units=this.get("units", [])))
        else:
            rows.append(VideoRow(video, "failed"))
    labels = node_labels(rows)
    for row in rows:
        row.nodes = " ".join(sorted({labels[u["node"]] for u in row.units}, key=_label_order))
    return rows


def node_labels(rows: list[VideoRow]) -> dict[str, str]:
    """Short names for Ray node ids, in the order the nodes first started a unit."""
    units = sorted((u for row in rows for u in row.units), key=lambda u: u["started"])
    labels: dict[str, str] = {}
    for unit in units:
        labels.setdefault(unit["node"], f"node-{len(labels) + 1}")
    return labels


def _label_order(label: str) -> int:
    return int(label.rsplit("-", 1)[1])


def _read_meta(location: str) -> dict:
    return yaml.safe_load(storage.read_text(location)) if storage.exists(location) else {}


def totals(rows: list[VideoRow], samples: list[NodeSample], started: float, finished: float) -> dict:
    units = [u for row in rows for u in row.units]
    analyzed = sum(row.analyzed for row in rows)
    wall = max(finished - started, 1e-9)
    return {
        "videos": len(rows),
        **{status: sum(row.status == status for row in rows) for status in STATUS_HELP},
        "frames analysed": analyzed,
        "wall seconds": round(wall, 1),
        "frames/s (wall)": round(analyzed / wall, 1),
        "worker seconds": round(sum(row.seconds for row in rows), 1),
        "nodes that analysed": len({u["node"] for u in units}),
        "most worker nodes at once": max((s.worker_nodes for s in samples), default=0),
        "retried units": sum(row.retries for row in rows),
    }


def write_report(files: dict[str, str], rows: list[VideoRow], samples: list[NodeSample],
                 started: float, finished: float, header: dict) -> None:
    """Write videos.csv, nodes.csv, throughput.png and report.md (last: its presence means the
    report is whole)."""
    table = pd.DataFrame([{k: v for k, v in asdict(row).items() if k != "units"} for row in rows])
    storage.write_text(files["videos"], table.to_csv(index=False))
    timeline = pd.DataFrame([s.as_dict() for s in samples])
    if not timeline.empty:
        timeline.insert(1, "seconds", (timeline["time"] - started).round(1))
    storage.write_text(files["nodes"], timeline.to_csv(index=False))
    storage.write_bytes(files["throughput"], throughput_png(rows, samples, started))
    summary = totals(rows, samples, started, finished)
    storage.write_text(files["report"], _markdown(rows, samples, started, header, summary))


def throughput_png(rows: list[VideoRow], samples: list[NodeSample], started: float) -> bytes:
    """Frames/s over the run (each unit's frames spread over its time) above the node count."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    units = [u for row in rows for u in row.units]
    end = max([u["finished"] for u in units] + [s.time for s in samples] + [started + 1]) - started
    width = max(1.0, end / 60)
    edges = np.arange(0, end + width, width)
    frames = np.zeros(len(edges) - 1)
    for unit in units:
        a, b = unit["started"] - started, max(unit["finished"] - started, unit["started"] - started + 1e-6)
        overlap = np.clip(np.minimum(edges[1:], b) - np.maximum(edges[:-1], a), 0, None)
        frames += unit["frames"] * overlap / (b - a)
    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(8, 5), height_ratios=(2, 1))
    top.step(edges[:-1], frames / width, where="post")
    top.set_ylabel("frames/s")
    top.set_title("analysis throughput")
    bottom.step([s.time - started for s in samples], [s.nodes for s in samples], where="post", label="all nodes")
    bottom.step([s.time - started for s in samples], [s.worker_nodes for s in samples], where="post",
                label="worker nodes")
    bottom.set_ylabel("nodes")
    bottom.set_xlabel("seconds since the job started")
    bottom.legend(loc="upper right")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def _markdown(rows: list[VideoRow], samples: list[NodeSample], started: float, header: dict,
              summary: dict) -> str:
    lines = ["# Analysis run", ""]
    lines += [f"- {key}: {value}" for key, value in header.items()] + [""]
    lines += ["## Totals", "", "| | |", "| --- | --- |"]
    lines += [f"| {key} | {value} |" for key, value in summary.items()] + [""]
    lines += ["## Videos", "", "| video | status | frames | analysed | seconds | frames/s | nodes | retries |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        lines.append(f"| {row.video} | {row.status} | {_blank(row.frames)} | {row.analyzed} | {row.seconds} | "
                     f"{_blank(row.frames_per_second)} | {row.nodes} | {row.retries} |")
    lines += ["", "Seconds are worker seconds; " + "; ".join(f"{k}: {v}" for k, v in STATUS_HELP.items()) + ".",
              "", "## Nodes", "", "| node | Ray node id | IP | units | frames |", "| --- | --- | --- | --- | --- |"]
    units = [u for row in rows for u in row.units]
    for node, label in node_labels(rows).items():
        mine = [u for u in units if u["node"] == node]
        lines.append(f"| {label} | {node} | {mine[0]['node_ip']} | {len(mine)} | {sum(u['frames'] for u in mine)} |")
    lines += ["", "## Nodes over time", "", "| seconds | nodes | worker nodes | CPUs | GPUs |",
              "| --- | --- | --- | --- | --- |"]
    for sample in _changes(samples):
        lines.append(f"| {max(0.0, sample.time - started):.1f} | {sample.nodes} | {sample.worker_nodes} | "
                     f"{sample.cpus:g} | {sample.gpus:g} |")
    lines += ["", "Every sample: nodes.csv. Throughput and nodes: throughput.png.", ""]
    return "\n".join(lines)


def _changes(samples: list[NodeSample]) -> list[NodeSample]:
    """The first sample, every sample where the node count changed, and the last."""
    kept = [s for i, s in enumerate(samples)
            if i == 0 or (s.nodes, s.worker_nodes) != (samples[i - 1].nodes, samples[i - 1].worker_nodes)]
    if samples and kept[-1] is not samples[-1]:
        kept.append(samples[-1])
    return kept


def _blank(value) -> str:
    return "" if value is None else str(value)
