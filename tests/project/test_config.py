"""config.yaml: DeepLabCut's projects open, round-trip, and bad values get one clear error."""

import shutil

import pytest
import yaml

from posering.errors import ConfigError
from posering.project import ProjectConfig, ProjectPaths
from posering.project.videos import resolve_video

from tests.conftest import SHARED_DATA, needs_shared_data


@needs_shared_data
@pytest.mark.parametrize("name", ["openfield-Pranav-2018-10-30", "Reaching-Mackenzie-2018-08-30",
                                  "dlc3-openfield-resnet50"])
def test_dlc_example_configs_open_with_the_placeholder_path_fixed(name):
    config = ProjectConfig.load(str(SHARED_DATA / name / "config.yaml"))
    assert config.project_path == str(SHARED_DATA / name)
    assert config.project_path_was_stale
    assert ProjectPaths(config).labeled_data_dir == str(SHARED_DATA / name / "labeled-data")


def test_roundtrip_keeps_unknown_keys_and_order(dlc3_project):
    config = ProjectConfig.load(str(dlc3_project))
    before = yaml.safe_load(dlc3_project.read_text())
    config.save()
    after = yaml.safe_load(dlc3_project.read_text())
    assert after.pop("project_path") == str(dlc3_project.parent)
    before.pop("project_path")
    assert after == before, "every key, DeepLabCut 3's extras included, survives a save"
    text = dlc3_project.read_text()
    assert text.index("Task:") < text.index("video_sets:") < text.index("TrainingFraction:")
    assert "# Plotting configuration" in text


def test_moved_project_finds_its_videos_by_name(tmp_path, demo_project):
    moved = tmp_path / "moved"
    shutil.copytree(demo_project.rsplit("/", 1)[0], moved, symlinks=True)
    config = ProjectConfig.load(str(moved / "config.yaml"))
    assert config.project_path == str(moved)
    (stale_key,) = config.video_sets
    shutil.rmtree(demo_project.rsplit("/", 1)[0])  # the old location is gone
    assert resolve_video(config, stale_key) == str(moved / "videos" / "demo-mouse.mp4")


BAD_VALUES = [
    ("bodyparts", ["snout", "left ear"], "contains a space"),
    ("bodyparts", ["snout", "snout"], "appears twice"),
    ("skeleton", [["snout", "tail"]], "'tail', which is not in bodyparts"),
    ("TrainingFraction", [1.5], "strictly between 0 and 1"),
    ("TrainingFraction", [0], "strictly between 0 and 1"),
    ("start", 0.8, "must be below stop"),
    ("colormap", "rainbo", "did you mean 'rainbow'"),
    ("pcutoff", 2, "above the allowed range"),
    ("numframes2pick", "twenty", "not an integer"),
    ("multianimalproject", True, "single-animal projects only"),
]


@pytest.mark.parametrize("key,value,message", BAD_VALUES)
def test_bad_values_are_refused_naming_file_and_key(demo_project, key, value, message):
    data = yaml.safe_load(open(demo_project).read())
    data[key] = value
    if key == "start":
        data["stop"] = 0.5
    with open(demo_project, "w") as handle:
        yaml.safe_dump(data, handle)
    with pytest.raises(ConfigError, match=message) as info:
        ProjectConfig.load(demo_project)
    assert demo_project in str(info.value)


def test_typo_in_a_key_is_named(demo_project):
    text = open(demo_project).read().replace("numframes2pick:", "numframes2pik:")
    open(demo_project, "w").write(text)
    with pytest.raises(ConfigError, match="'numframes2pik': did you mean 'numframes2pick'"):
        ProjectConfig.load(demo_project)


def test_typo_beside_the_key_it_misspells_is_warned_about(demo_project, caplog):
    open(demo_project, "a").write("numframes2pik: 50\n")  # meant to change numframes2pick
    with caplog.at_level("WARNING", logger="posering.project"):
        config = ProjectConfig.load(demo_project)
    assert config["numframes2pick"] != 50
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{demo_project}: unknown key 'numframes2pik' is ignored")
    assert f"'numframes2pick', which is also set (numframes2pick: {config['numframes2pick']} is used)" in warnings[0]


# An indented key is checked below the first line only: indenting the first line indents the
# whole mapping, and the line PyYAML refuses (the next key, not indented) is as much to fix.
BROKEN_LINES = [(broken, where) for broken in ("Task: [unclosed", "Task: 'unclosed", "Task: a: b", "Task")
                for where in ("first", "middle", "last")] + [("  Task: indented", "middle"),
                                                             ("  Task: indented", "last")]


@pytest.mark.parametrize("broken,where", BROKEN_LINES)
def test_invalid_yaml_names_the_line_to_fix(demo_project, broken, where):
    """The line reported is the line that was broken (PyYAML counts from 0, notices an open
    bracket or quote only on a later line, and a lost ':' only at the next key's)."""
    lines = open(demo_project).read().splitlines()
    index = {"first": 0, "middle": len(lines) // 2, "last": len(lines) - 1}[where]
    while index and (not lines[index].strip() or lines[index].startswith((" ", "-", "#"))):
        index -= 1  # a top-level key's line, so the broken one replaces a whole key
    lines[index] = broken
    open(demo_project, "w").write("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=rf"config.yaml: line {index + 1} is not valid YAML"):
        ProjectConfig.load(demo_project)


def test_save_refuses_invalid_values_and_keeps_the_file(demo_project):
    before = open(demo_project).read()
    config = ProjectConfig.load(demo_project)
    config["bodyparts"] = ["a b"]
    with pytest.raises(ConfigError):
        config.save()
    assert open(demo_project).read() == before


def test_missing_config_says_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match="create_new_project"):
        ProjectConfig.load(str(tmp_path / "nowhere" / "config.yaml"))
