"""`posering gui [config.yaml]` and `python -m posering`: the command exists, takes the project as
an optional argument, and says in one line when there is no display."""

import os
import subprocess
import sys

from posering.cli import main


def test_gui_command_takes_an_optional_config(capsys):
    assert main(["gui", "--help"]) == 0
    assert "Usage: posering gui [OPTIONS] [CONFIG]" in capsys.readouterr().out


def test_without_a_display_it_says_so_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = os.getcwd()
    result = subprocess.run([sys.executable, "-m", "posering", str(tmp_path / "config.yaml")], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip() == ("error: no display to open a window on (DISPLAY is not set); run it on a "
                                     "desktop, or under `xvfb-run posering gui` for a virtual one")
