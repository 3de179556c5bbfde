"""``python -m posering [config.yaml]`` opens the desktop client."""

import sys

from posering.cli import main

if __name__ == "__main__":
    sys.exit(main(["gui", *sys.argv[1:]]))
