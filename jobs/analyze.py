"""The analyze job for `ray job submit`: analyze a collection of videos (files, folders, s3:// prefixes), then report the run.

    ray job submit --address http://<head>:8265 --working-dir . -- python jobs/analyze.py --help

Its arguments are those of `posering jobs run analyze` (and of `posering submit analyze`, which
submits this same job): one command, generated from the API, parses them everywhere.
"""

import sys

from posering.cli import main

if __name__ == "__main__":
    sys.exit(main(["jobs", "run", "analyze", *sys.argv[1:]]))
