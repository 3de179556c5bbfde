#!/usr/bin/env bash
# Build a DeepLabCut 3.0.2 virtual environment for posering's interop tests (tests/interop/).
#
# DeepLabCut is never a dependency of posering: it lives in its own venv, and the tests drive it
# through POSERING_DLC_PYTHON=<venv>/bin/python. About 2-4 minutes and 6.7 GB.
#
#   scripts/dlc-venv.sh [VENV_DIR]        # default /opt/dlc
#   POSERING_DLC_PYTHON=/opt/dlc/bin/python python3 -m pytest tests/interop -q
set -euo pipefail

VENV="${1:-/opt/dlc}"
NEED_GB=8

avail_gb=$(df -Pk "$(dirname "$VENV")" | awk 'NR==2 {print int($4 / 1048576)}')
if [ "$avail_gb" -lt "$NEED_GB" ]; then
    echo "dlc-venv: only ${avail_gb} GB free under $(dirname "$VENV"); DeepLabCut needs about ${NEED_GB} GB" >&2
    exit 1
fi

python3 -m venv "$VENV"
"$VENV/bin/pip" install --upgrade pip
"$VENV/bin/pip" install torch==2.14.1 torchvision==0.29.1
"$VENV/bin/pip" install deeplabcut==3.0.2
"$VENV/bin/python" -c "import deeplabcut; print('deeplabcut', deeplabcut.__version__, 'ready in $VENV')"
echo "export POSERING_DLC_PYTHON=$VENV/bin/python"
