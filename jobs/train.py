"""The train job for `ray job submit`: train shuffles on Ray Train (train_network).

    ray job submit --address http://<head>:8265 --working-dir . -- python jobs/train.py --help

Its arguments are those of `posering jobs run train` (and of `posering submit train`, which
submits this same job): one command, generated from the API, parses them everywhere.
"""

import sys

from posering.cli import main

if __name__ == "__main__":
    sys.exit(main(["jobs", "run", "train", *sys.argv[1:]]))
