"""The compare job for `ray job submit`: compare models on Ray Tune (compare_models).

    ray job submit --address http://<head>:8265 --working-dir . -- python jobs/compare.py --help

Its arguments are those of `posering jobs run compare` (and of `posering submit compare`, which
submits this same job): one command, generated from the API, parses them everywhere.
"""

import sys

from posering.cli import main

if __name__ == "__main__":
    sys.exit(main(["jobs", "run", "compare", *sys.argv[1:]]))
