"""The command line: generated from the API, clear one-line errors, --debug tracebacks."""

import functools
import subprocess
import sys

import pytest

from posering import api
from posering.cli import main
from posering.errors import ConfigError


def test_every_api_function_is_a_command_with_help(capsys):
    for name in api.ENTRIES:
        assert main([name, "--help"]) == 0
        out = capsys.readouterr().out
        assert f"Usage: posering {name}" in out


def test_options_accept_both_spellings(tmp_path, synthetic_video, capsys):
    assert main(["create_new_project", "p", "me", synthetic_video[0],
                 "--working-directory", str(tmp_path / "a"), "--copy_videos"]) == 0
    assert main(["create-new-project", "p", "me", synthetic_video[0],
                 "--working_directory", str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert out.count("config.yaml") == 2
    assert not (list((tmp_path / "a").glob("*/videos/mouse.mp4"))[0]).is_symlink()
    assert (list((tmp_path / "b").glob("*/videos/mouse.mp4"))[0]).is_symlink()


def test_user_error_is_one_line_without_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "posering.cli", "add_new_videos",
                             str(tmp_path / "missing" / "config.yaml"), "x.mp4"],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: ")
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(ConfigError):
        main(["--debug", "add_new_videos", str(tmp_path / "config.yaml"), "x.mp4"])


def test_list_options_take_several_values_after_one_flag():
    from posering.cli import _spread_list_options, make_command
    from posering.train.train_network import train_network

    argv = ["train_network", "c.yaml", "--shuffles", "1", "2", "3", "--epochs", "2"]
    assert _spread_list_options(argv) == ["train_network", "c.yaml", "--shuffles", "1", "--shuffles", "2",
                                          "--shuffles", "3", "--epochs", "2"]
    seen = {}

    @functools.wraps(train_network)  # train_network's options, without training
    def record(**arguments):
        seen.update(arguments)

    command = make_command("train_network", record)
    command.main(_spread_list_options(argv)[1:], standalone_mode=False)
    assert seen["shuffles"] == [1, 2, 3] and seen["epochs"] == 2 and seen["config"] == "c.yaml"
    seen.clear()
    command.main(["c.yaml", "--shuffles", "[4, 5]"], standalone_mode=False)  # the YAML form still works
    assert seen["shuffles"] == [4, 5]
