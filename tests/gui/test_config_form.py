"""The config form without a window: the config model's messages per field, saving, the skeleton."""

from __future__ import annotations

import pytest
import yaml

from posering.errors import ConfigError
from posering.gui.state import recent
from posering.gui.state.config_form import ConfigForm, SkeletonBuilder
from posering.project import ProjectConfig


@pytest.fixture
def config(demo_project):
    return ProjectConfig.load(demo_project)


def test_a_good_value_is_saved_and_other_keys_are_kept(config):
    form = ConfigForm(config)
    assert form.set("pcutoff", "0.4") is None
    assert form.set("bodyparts", "snout\nleftear\nrightear, tailbase") is None
    assert form.changed == {"pcutoff": 0.4, "bodyparts": ["snout", "leftear", "rightear", "tailbase"]}
    # another program changes a key meanwhile: kept
    on_disk = yaml.safe_load(open(config.location))
    on_disk["dotsize"] = 7
    open(config.location, "w").write(yaml.safe_dump(on_disk))
    form.save()
    saved = ProjectConfig.load(config.location)
    assert saved["pcutoff"] == 0.4 and saved["dotsize"] == 7
    assert saved.bodyparts == ["snout", "leftear", "rightear", "tailbase"]
    assert form.changed == {}


@pytest.mark.parametrize("key,text,message", [
    ("pcutoff", "1.5", "key 'pcutoff': 1.5 is above the allowed range"),
    ("pcutoff", "high", "key 'pcutoff': 'high' is not a number"),
    ("numframes2pick", "2.5", "key 'numframes2pick': 2.5 is not an integer"),
    ("colormap", "rainbo", "key 'colormap': 'rainbo' is not a matplotlib colormap; did you mean 'rainbow'?"),
    ("TrainingFraction", "0.95, 1.2", "key 'TrainingFraction': 1.2 must be a fraction strictly between 0 and 1"),
    ("bodyparts", "snout\nsnout", "key 'bodyparts': 'snout' appears twice; bodypart names must be unique"),
])
def test_a_bad_value_gets_the_config_models_message_and_is_not_saved(config, key, text, message):
    before = open(config.location).read()
    form = ConfigForm(config)
    assert form.set(key, text) == message
    assert form.errors == {key: message}
    with pytest.raises(ConfigError, match=key):
        form.save()
    assert open(config.location).read() == before  # nothing written
    form.set(key, form.saved[key])
    assert form.errors == {}


def test_removing_a_bodypart_drops_its_bones(config):
    form = ConfigForm(config)
    first = config.skeleton[0][0]
    assert form.set("bodyparts", "\n".join(b for b in config.bodyparts if b != first)) is None
    saved = form.save()
    assert saved.skeleton == [bone for bone in config.skeleton if first not in bone]
    assert form.dropped_bones == [bone for bone in config.skeleton if first in bone]


def test_skeleton_builder_connects_and_disconnects(config):
    builder = SkeletonBuilder(["a", "b", "c"], [["a", "b"]])
    assert "click" in builder.pick("b")
    assert builder.pick("c") == "connected b - c"
    builder.pick("b")
    assert builder.pick("a") == "removed b - a"
    assert builder.bones == [["b", "c"]]
    builder.pick("c")
    assert builder.pick("c") == "connection cancelled"


def test_skeleton_is_saved_through_the_form(config):
    form = ConfigForm(config)
    parts = config.bodyparts
    form.save({"skeleton": [[parts[0], parts[1]]]})
    assert ProjectConfig.load(config.location).skeleton == [[parts[0], parts[1]]]


def test_recent_projects_newest_first(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert recent.load() == []
    recent.remember("/a/config.yaml")
    recent.remember("s3://lab/b/config.yaml")
    assert recent.remember("/a/config.yaml") == ["/a/config.yaml", "s3://lab/b/config.yaml"]
    assert recent.load() == ["/a/config.yaml", "s3://lab/b/config.yaml"]
    assert (tmp_path / "posering" / recent.RECENT_FILE).exists()
    (tmp_path / "posering" / recent.RECENT_FILE).write_text(": not yaml [")
    assert recent.load() == []
