"""The model config: DeepLabCut 3's layout written, read back, and what posering refuses."""

from __future__ import annotations

import copy

import pytest
import yaml

from posering.errors import ModelError
from posering.formats.model_config import load_model_config, read_model_config, read_model_spec, save_model_config
from posering.model import BACKBONES, parse_model_config
from posering.model.defaults import make_model_config

BODYPARTS = ["snout", "leftear", "rightear", "tailbase"]


def _config(net_type="resnet_50", **overrides):
    return make_model_config(net_type, BODYPARTS, "/proj", "/proj/train/pytorch_config.yaml", **overrides)


def test_defaults_match_deeplabcut_layout(dlc3_config):
    ours = _config()
    theirs = load_model_config(str(dlc3_config))
    # Same model section, heads and data transforms as DeepLabCut wrote for this project.
    assert ours["model"]["heads"] == theirs["model"]["heads"]
    assert ours["model"]["backbone_output_channels"] == theirs["model"]["backbone_output_channels"]
    for key in ("type", "model_name", "output_stride", "freeze_bn_stats", "freeze_bn_weights"):
        assert ours["model"]["backbone"][key] == theirs["model"]["backbone"][key]
    assert ours["data"]["train"] == theirs["data"]["train"]
    assert ours["data"]["inference"] == theirs["data"]["inference"]
    assert ours["runner"]["optimizer"] == theirs["runner"]["optimizer"]
    assert ours["runner"]["scheduler"]["params"]["milestones"] == [90, 120]
    assert ours["train_settings"]["batch_size"] == 8 and ours["train_settings"]["epochs"] == 200
    assert ours["runner"]["snapshots"] == {"max_snapshots": 5, "save_epochs": 25, "save_optimizer_state": False}
    # every top-level key DeepLabCut writes is there (posering adds only its own block)
    assert set(theirs) - set(ours) == set()
    assert set(ours) - set(theirs) == {"posering"}


def test_round_trip_through_yaml(tmp_path):
    path = tmp_path / "train" / "pytorch_config.yaml"
    config = _config(**{"train_settings.epochs": 7, "posering.weight_init": "none"})
    save_model_config(config, str(path))
    text = path.read_text()
    assert text.index("config_version") < text.index("model:") < text.index("resume_training_from")
    spec = read_model_spec(str(path))
    assert spec.net_type == "resnet_50" and spec.backbone == "resnet50_gn"
    assert spec.num_keypoints == 4 and spec.stride == 8
    assert spec.locref_std == pytest.approx(7.2801) and spec.pos_dist_thresh == 17
    assert spec.weight_init == "none" and spec.source == str(path)
    assert load_model_config(str(path))["train_settings"]["epochs"] == 7


def test_posering_settings_live_beside_deeplabcuts_file(tmp_path, dlc3_config):
    path = tmp_path / "train" / "pytorch_config.yaml"
    save_model_config(_config(**{"posering.weight_init": "none"}), str(path))
    written = yaml.safe_load(path.read_text())
    # DeepLabCut 3 validates pytorch_config.yaml strictly: only its own top-level keys.
    assert set(written) == set(yaml.safe_load(dlc3_config.read_text()))
    assert yaml.safe_load((path.parent / "posering.yaml").read_text()) == {"weight_init": "none", "precision": "auto"}
    assert read_model_config(str(path)).spec.weight_init == "none"


def test_configs_with_the_old_posering_key_are_read_and_moved_out(tmp_path):
    path = tmp_path / "train" / "pytorch_config.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(_config(**{"posering.weight_init": "package"}), sort_keys=False))
    model_config = read_model_config(str(path))
    assert model_config.spec.weight_init == "package"
    model_config.set("train_settings.epochs", 3)
    model_config.save()
    assert "posering" not in yaml.safe_load(path.read_text())
    assert read_model_config(str(path)).spec.weight_init == "package"
    assert read_model_config(str(path)).train.epochs == 3


@pytest.mark.parametrize("net_type", sorted(BACKBONES))
def test_every_backbone_has_a_valid_default_config(net_type):
    spec = parse_model_config(_config(net_type))
    assert spec.stride == 8
    assert spec.heatmap_config["channels"][0] == BACKBONES[net_type].channels


def _write(tmp_path, config, name="pytorch_config.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return str(path)


def _refused(tmp_path, config, *words):
    path = _write(tmp_path, config)
    with pytest.raises(ModelError) as err:
        read_model_spec(path)
    message = str(err.value)
    assert "\n" not in message and path in message
    for word in words:
        assert word in message
    return message


def test_refuses_top_down(tmp_path):
    c = _config()
    _refused(tmp_path, {**c, "net_type": "top_down_resnet_50"}, "top_down_resnet_50", "top-down")
    _refused(tmp_path, {**c, "net_type": "rtmpose_s"}, "rtmpose_s")
    _refused(tmp_path, {**c, "net_type": "ctd_coam_w32"}, "ctd_coam_w32")
    _refused(tmp_path, {**c, "method": "td"}, "top-down")
    detector = {"model": {"type": "FasterRCNN", "variant": "fasterrcnn_mobilenet_v3_large_fpn"}}
    _refused(tmp_path, {**c, "detector": detector}, "detector")


def test_refuses_multi_animal(tmp_path):
    c = _config()
    _refused(tmp_path, {**c, "net_type": "dekr_w32"}, "dekr_w32", "multi-animal")
    _refused(tmp_path, {**c, "net_type": "dlcrnet_stride16_ms5"}, "dlcrnet_stride16_ms5")
    paf = copy.deepcopy(c)
    paf["model"]["heads"]["bodypart"]["type"] = "DLCRNetHead"
    _refused(tmp_path, paf, "DLCRNetHead")
    identity = copy.deepcopy(c)
    identity["model"]["heads"]["identity"] = {"type": "HeatmapHead"}
    _refused(tmp_path, identity, "identity")
    many = copy.deepcopy(c)
    many["metadata"]["individuals"] = ["mouse1", "mouse2"]
    _refused(tmp_path, many, "individuals")
    unique = copy.deepcopy(c)
    unique["metadata"]["unique_bodyparts"] = ["led"]
    _refused(tmp_path, unique, "unique_bodyparts")


def test_refuses_unknown_or_inconsistent_backbones(tmp_path):
    c = _config()
    _refused(tmp_path, {**c, "net_type": "hrnet_w32"}, "hrnet_w32", "resnet_50")
    renamed = copy.deepcopy(c)
    renamed["model"]["backbone"]["model_name"] = "resnet50"
    _refused(tmp_path, renamed, "resnet50")
    with pytest.raises(ModelError, match="efficientnet_b7"):
        make_model_config("efficientnet_b7", BODYPARTS, "/p", "/p/c.yaml")
    wrong_k = copy.deepcopy(c)
    wrong_k["metadata"]["bodyparts"] = BODYPARTS[:3]
    _refused(tmp_path, wrong_k, "channels")
    final_conv = copy.deepcopy(c)
    final_conv["model"]["heads"]["bodypart"]["heatmap_config"]["final_conv"] = {"out_channels": 4, "kernel_size": 1}
    _refused(tmp_path, final_conv, "final_conv")


def test_yaml_is_parsed_not_executed(tmp_path):
    path = tmp_path / "pytorch_config.yaml"
    path.write_text("net_type: !!python/object/apply:os.system ['echo owned']\n")
    with pytest.raises(ModelError, match="not valid YAML"):
        load_model_config(str(path))


def test_refuses_heads_that_do_not_fit_the_stride(tmp_path):
    c = _config()
    deep = copy.deepcopy(c)
    for key, k in (("heatmap_config", 4), ("locref_config", 8)):
        deep["model"]["heads"]["bodypart"][key] = {
            "channels": [2048, 64, 64, 64, 64, k], "kernel_size": [3] * 5, "strides": [2] * 5,
        }
    _refused(tmp_path, deep, "do not divide")
    # Two layers on a stride-16 backbone are fine (DeepLabCut documents it): stride-4 maps.
    two = copy.deepcopy(c)
    for key, k in (("heatmap_config", 4), ("locref_config", 8)):
        two["model"]["heads"]["bodypart"][key] = {"channels": [2048, 64, k], "kernel_size": [3, 3], "strides": [2, 2]}
    assert parse_model_config(two).stride == 4
