"""Runs DeepLabCut 3 steps inside DeepLabCut's own virtual environment (never imports posering).

    <dlc venv>/bin/python dlc_steps.py plan.json results.json

plan.json: ``[{"name": "...", "call": "<deeplabcut function>", "args": [...], "kwargs": {...}}, ...]``.
Every step runs, in order, even after one failed, so a test sees each step's own outcome;
results.json: ``{name: {"ok": bool, "error": "<last lines of the traceback>", "seconds": float}}``,
rewritten after each step (a run that is killed still says how far it got).
"""

import json
import sys
import time
import traceback


def main(plan_file: str, results_file: str) -> int:
    import deeplabcut

    with open(plan_file) as handle:
        plan = json.load(handle)
    results = {}
    for step in plan:
        started = time.perf_counter()
        print(f"== {step['name']}: deeplabcut.{step['call']}", flush=True)
        try:
            getattr(deeplabcut, step["call"])(*step.get("args", []), **step.get("kwargs", {}))
            results[step["name"]] = {"ok": True, "error": ""}
        except BaseException:  # noqa: B036  (a step's SystemExit is its failure too)
            lines = traceback.format_exc().strip().splitlines()
            results[step["name"]] = {"ok": False, "error": "\n".join(lines[-12:])}
            print(results[step["name"]]["error"], flush=True)
        results[step["name"]]["seconds"] = round(time.perf_counter() - started, 1)
        with open(results_file, "w") as handle:
            json.dump(results, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
