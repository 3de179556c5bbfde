"""posering on a Ray cluster: jobs submitted through Ray's Job Submission API, and the jobs
themselves.

* ``client.py``: reaching a cluster's job server (address, token, clear errors), runtime envs.
* ``commands.py``: ``posering submit analyze|train|compare`` and ``posering jobs ...``.
* ``jobs.py``: the jobs' commands, generated from the API functions they call (one parser).
* ``analyze_collection.py``: the analyze job: analysis, optional post-processing, run report.
* ``report.py`` / ``nodes.py``: the run report, and the cluster's nodes sampled over time.

Nothing here schedules work: Ray's job server runs the job, Ray runs its tasks and actors.
"""
