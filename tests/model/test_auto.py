"""net_type auto: settings chosen from dataset statistics, written with their reasons."""

import math

import numpy as np
import yaml

from posering.formats.model_config import auto_notes, read_model_config
from posering.model.auto import (DatasetStats, Device, choose_backbone, choose_batch, choose_crop, choose_schedule,
                                 choose_settings, choose_stride, choose_target, dataset_stats)
from posering.model.spec import parse_model_config
from posering.project import ProjectPaths, load_config

CPU = Device("cpu", 16 * 2**30, ("mobilenet_v2_1.0",), hub=False)
# openfield's statistics (4 keypoints, 640x480, a mouse about 125 px long, ears 9-13 px apart)
OPENFIELD = DatasetStats(4, 110, ((640, 480),), extent=123.0, spacing=13.1, spacing_low=9.1, symmetric_pairs=1)


def test_statistics_of_labeled_keypoints():
    xy = np.array([[[0, 0], [10, 0], [np.nan, np.nan], [0, 40]],
                   [[5, 5], [5, 25], [105, 5], [np.nan, np.nan]]], dtype=float)
    stats = dataset_stats(xy, [(640, 480), (320, 240), (640, 480)], symmetric_pairs=2)
    assert stats.num_keypoints == 4 and stats.num_frames == 2
    assert stats.frame_sizes == ((320, 240), (640, 480)) and stats.largest_frame == (640, 480)
    assert stats.smallest_side == 240
    # extents 40 and 100: the 90th percentile lies between them
    assert 90 < stats.extent < 100
    # nearest neighbours: 10, 10, 30 in frame 1; 20, 20, 100 in frame 2
    assert stats.spacing == 20 and stats.symmetric_pairs == 2
    empty = dataset_stats(np.full((3, 2, 2), np.nan), [(64, 64)])
    assert empty.extent == 0 and math.isinf(empty.spacing)


def test_openfield_gets_the_recipe_tuned_on_it():
    settings = {key: value for choice in choose_settings(OPENFIELD, CPU, 110) for key, value in choice.values.items()}
    assert settings["net_type"] == "mobilenet_v2_1.0"
    assert settings["data.train.crop_sampling"] == {"width": 224, "height": 224, "max_shift": 0.3,
                                                    "method": "keypoints"}
    assert settings["model.backbone.output_stride"] == 16
    assert settings["model.heads.bodypart.target_generator.pos_dist_thresh"] == 33
    assert settings["train_settings.batch_size"] == 8
    assert settings["runner.optimizer"]["params"]["lr"] == 1e-3
    assert settings["runner.scheduler"]["params"] == {"lr_list": [[1e-4]], "milestones": [150]}


def test_crop_follows_frames_and_spread():
    small = DatasetStats(17, 72, ((400, 400),), extent=350, spacing=20, spacing_low=6, symmetric_pairs=4)
    whole = choose_crop(small)
    assert whole.values["data.train.crop_sampling"]["width"] == 400 and "whole frames" in whole.reason
    odd = DatasetStats(5, 10, ((500, 301),), extent=50, spacing=30, spacing_low=20)
    assert choose_crop(odd).values["data.train.crop_sampling"]["height"] == 304  # padded to a multiple of 16
    # A large animal with left/right pairs in big frames: 1.5x its extent, capped at 448.
    big = DatasetStats(8, 50, ((1280, 1024),), extent=250, spacing=40, spacing_low=20, symmetric_pairs=2)
    assert choose_crop(big).values["data.train.crop_sampling"]["width"] == 384
    huge = DatasetStats(8, 50, ((1920, 1080),), extent=600, spacing=40, spacing_low=20, symmetric_pairs=2)
    assert choose_crop(huge).values["data.train.crop_sampling"]["width"] == 448
    # No pairs: local context, four neighbour spacings, at least 224.
    far = DatasetStats(5, 50, ((832, 747), (640, 470)), extent=417, spacing=45, spacing_low=20)
    crop = choose_crop(far)
    assert crop.values["data.train.crop_sampling"]["width"] == 224 and "spacing" in crop.reason
    # A crop that would cover most of a frame becomes the whole frame.
    wide = DatasetStats(6, 50, ((700, 400),), extent=300, spacing=40, spacing_low=20, symmetric_pairs=1)
    assert choose_crop(wide).values["data.train.crop_sampling"]["width"] == 704


def test_stride_and_target_follow_keypoint_spacing():
    crowded = DatasetStats(17, 72, ((400, 400),), extent=350, spacing=6, spacing_low=4)
    stride = choose_stride(crowded, "mobilenet_v2_1.0")
    assert stride.extra["map_stride"] == 4 and stride.values["model.backbone.output_stride"] == 8
    assert choose_target(crowded, 4).values["model.heads.bodypart.target_generator.pos_dist_thresh"] == 17
    # A backbone that cannot run at stride 8 keeps stride-8 maps.
    assert choose_stride(crowded, "mobilenet_v4_small").extra["map_stride"] == 8
    assert choose_stride(OPENFIELD, "resnet_50").extra["map_stride"] == 8
    assert choose_target(OPENFIELD, 8).values["model.heads.bodypart.target_generator.pos_dist_thresh"] == 33
    sparse = DatasetStats(3, 20, ((640, 480),), extent=300, spacing=100, spacing_low=80)
    assert choose_target(sparse, 8).values["model.heads.bodypart.target_generator.pos_dist_thresh"] == 34
    # Every stride choice builds: the head's strides match the backbone.
    for stats in (crowded, OPENFIELD):
        from posering.model.defaults import make_model_config

        config = make_model_config("mobilenet_v2_1.0", [f"k{i}" for i in range(stats.num_keypoints)], "/p", "/p/c",
                                   **choose_stride(stats, "mobilenet_v2_1.0").values)
        assert parse_model_config(config).stride == choose_stride(stats, "mobilenet_v2_1.0").extra["map_stride"]


def test_backbone_from_device_and_offline_weights():
    assert choose_backbone(CPU).values["net_type"] == "mobilenet_v2_1.0"
    assert choose_backbone(Device("cuda", 80 * 2**30, ("mobilenet_v2_1.0",), hub=True)).values == {
        "net_type": "resnet_50"}
    offline_gpu = choose_backbone(Device("cuda", 80 * 2**30, ("mobilenet_v2_1.0",), hub=False))
    assert offline_gpu.values["net_type"] == "mobilenet_v2_1.0" and "offline" in offline_gpu.reason
    bare = choose_backbone(Device("cpu", 2**30, (), hub=False))
    assert "random weights" in bare.reason and "pip install" in bare.reason


def test_batch_from_memory_and_frames():
    assert choose_batch("mobilenet_v2_1.0", 224 * 224, CPU, 110).values["train_settings.batch_size"] == 8
    tight = Device("cpu", 1 * 2**30, (), False)   # 256 MiB to use, ~96 MiB per image
    assert choose_batch("mobilenet_v2_1.0", 224 * 224, tight, 110).values["train_settings.batch_size"] == 2
    assert choose_batch("resnet_50", 448 * 448, tight, 110).values["train_settings.batch_size"] == 1
    gpu = Device("cuda", 140 * 2**30, (), True)
    assert choose_batch("resnet_50", 448 * 448, gpu, 1000).values["train_settings.batch_size"] == 32
    assert choose_batch("resnet_50", 448 * 448, gpu, 12).values["train_settings.batch_size"] == 8
    assert choose_schedule(32).values["runner.optimizer"]["params"]["lr"] == 2e-3


def test_auto_writes_its_choices_and_reasons(demo_project):
    """End to end on the demo project: create_training_dataset with net_type auto, then one
    training step; every choice is in pytorch_config.yaml (as DeepLabCut keys, reasons as
    comments), posering.yaml and train.txt, and a setting changed by hand is used and noted."""
    from posering.dataset.create_training_dataset import create_training_dataset
    from posering.train.train_network import train_network

    result = create_training_dataset(demo_project, Shuffles=[1], net_type="auto")
    assert result[0]["net_type"] in ("mobilenet_v2_1.0", "resnet_50")
    cfg = load_config(demo_project)
    paths = ProjectPaths(cfg)
    fraction = cfg.training_fractions[0]
    location = paths.model_config_file(fraction, 1)
    text = open(location).read()
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert len(header) == 8 and "net_type: auto" in header[0]
    data = yaml.safe_load(text)
    assert "posering" not in data and "auto" not in data  # DeepLabCut's file holds its own keys only
    assert data["net_type"] == result[0]["net_type"]
    pose_cfg = yaml.safe_load(open(paths.pose_cfg_file(fraction, 1)).read())
    assert pose_cfg["net_type"] == result[0]["net_type"]
    model = read_model_config(location)
    recorded = {entry["setting"]: entry for entry in model.data["posering"]["auto"]}
    assert set(recorded) == {"net_type", "crop", "stride", "target", "batch", "schedule"}
    # the demo's frames are small: whole frames
    crop = data["data"]["train"]["crop_sampling"]
    assert crop["method"] == "uniform" and "whole frames" in recorded["crop"]["reason"]
    assert all(line.startswith("auto ") for line in auto_notes(model.data))

    # The user changes the target radius: it is used, and the notes say so.
    model.set("model.heads.bodypart.target_generator.pos_dist_thresh", 12)
    model.save()
    assert read_model_config(location).spec.pos_dist_thresh == 12
    train_network(demo_project, maxiters=1, batch_size=2, progress=False)
    train_txt = open(paths.train_dir(fraction, 1) + "/train.txt").read()
    assert "auto crop (data.train.crop_sampling, data.train.affine): whole frames" in train_txt
    assert "target (model.heads.bodypart.target_generator.pos_dist_thresh): set by hand" in train_txt
    assert "batch (train_settings.batch_size): set by hand" in train_txt  # batch_size=2 given to train_network
