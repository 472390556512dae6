"""SimpleBaseline and integral regression: shapes, sizes, the coordinate loss, training and prediction."""

import numpy as np
import pytest
import torch

from poselab.data.dataset import ImageSet
from poselab.data.pose_dataset import HeatmapDataset, SyntheticSource
from poselab.evaluation.predict import predict
from poselab.heatmaps import heatmap_to_input, soft_argmax
from poselab.models import build_model
from poselab.models.complexity import count_macs, count_parameters
from poselab.training.loop import TrainConfig, coordinate_loss, train

BACKBONE = {"arch": "hourglass", "n_stacks": 2, "width": 8, "depth": 1, "stem": [4, 8], "n_joints": 16}


def test_simplebaseline_resnet50_has_the_published_size():
    model = build_model({"arch": "simplebaseline", "n_joints": 17})
    assert count_parameters(model) == 33_999_697  # published: 34.0M
    tiny = build_model({"arch": "simplebaseline", "n_joints": 16, "layers": [1, 1, 1, 1], "width": 8,
                        "deconv": [16, 16, 16]})
    assert tiny(torch.rand(2, 3, 64, 96)).shape == (2, 16, 16, 24)
    # a transposed convolution counts in_pixels x out_channels x k x k multiply-accumulates
    deconv = torch.nn.Sequential(torch.nn.ConvTranspose2d(3, 5, 4, 2, 1))
    assert count_macs(deconv, (3, 6, 7)) == 6 * 7 * 3 * 5 * 16


def test_integral_regression_starts_as_the_soft_argmax_of_its_backbone():
    torch.manual_seed(0)
    model = build_model({"arch": "integral", "backbone": BACKBONE, "beta": 10.0}).eval()
    x = torch.rand(3, 3, 32, 32)
    coords = model(x)
    assert coords.shape == (3, 2, 16, 2)  # one set per stack
    expected = heatmap_to_input(soft_argmax(model.backbone(x)[:, -1], 10.0), 4)
    assert torch.allclose(coords[:, -1], expected, atol=1e-5)


def test_coordinate_loss_is_a_masked_l1_per_stack():
    target = torch.zeros(2, 3, 2)
    out = torch.zeros(2, 2, 3, 2)
    out[:, 1, 0] = torch.tensor([3.0, 4.0])  # stack 2 off by 7 (L1) on joint 0
    out[:, :, 2] = 100.0  # joint 2 is unannotated
    weight = torch.tensor([[1.0, 1.0, 0.0]] * 2)
    assert torch.allclose(coordinate_loss(out, target, weight, size=7.0), torch.tensor([0.0, 1 / 3]))


def test_an_integral_model_trains_on_coordinates_and_predicts_them(tiny_sets, tmp_path):
    src = SyntheticSource(ImageSet(tiny_sets["pose2d"], "train"))
    data = HeatmapDataset(src, 32)
    torch.manual_seed(0)
    model = build_model({"arch": "integral", "backbone": BACKBONE, "beta": 1.0})

    def error():
        p = predict(model, data).joints
        return np.linalg.norm(p - src.joints(), axis=-1)[src.annotated()].mean()

    before = error()
    result = train(model, data, TrainConfig(epochs=25, batch_size=8, lr=3e-3, optimizer="adam", loss="integral"),
                   tmp_path, progress=False)
    assert result.status == "finished" and result.history["loss"].iloc[-1] < 0.6 * result.history["loss"].iloc[0]
    assert error() < 0.7 * before
    assert np.isnan(predict(model, data).confidence).all()  # no heatmap peak to report
    with pytest.raises(ValueError, match="outputs coordinates"):
        train(model, data, TrainConfig(epochs=1, loss="heatmap"), tmp_path / "x", progress=False)


def test_sun_et_al_plain_softmax_is_a_fixed_temperature_of_one():
    backbone = {"arch": "hourglass", "n_stacks": 1, "width": 8, "n_joints": 16, "depth": 1, "stem": [4, 8]}
    torch.manual_seed(0)
    plain = build_model({"arch": "integral", "backbone": backbone, "beta": 1.0, "learn_beta": False}).eval()
    assert "log_beta" not in dict(plain.named_parameters()) and "log_beta" in plain.state_dict()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        maps = plain.backbone(x)[:, 0]  # (B, stacks, J, h, w): the one stack
        expected = heatmap_to_input(soft_argmax(maps, beta=1.0), 4)
        assert torch.allclose(plain(x)[:, 0], expected, atol=1e-5)


def test_sun_et_al_coordinates_move_predictions_by_half_a_stride_less_one():
    from poselab.data.transforms import crop_matrix
    from poselab.studies.poseig.experiment import sun_convention_shift

    backbone = {"arch": "hourglass", "n_stacks": 1, "width": 8, "n_joints": 16, "depth": 1, "stem": [4, 8]}
    model = build_model({"arch": "integral", "backbone": backbone}).eval()
    matrix = crop_matrix(np.full(2, 23.5), 48, 32)  # a 48-pixel source onto a 32-pixel input: 1.5 source px each
    assert sun_convention_shift(model, 32, matrix) == pytest.approx(-1.5 * 1.5)  # stride 4: (4 - 1) / 2 input px


def test_training_flops_agree_with_a_hand_count():
    from torch import nn

    from poselab.models.complexity import training_flops

    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 5 * 5, 10))
    # conv: 5 x 5 outputs x 4 channels x (3 x 3 x 3) MACs = 2,700; linear: 100 x 10 = 1,000
    macs = 5 * 5 * 4 * 27 + 100 * 10
    assert count_macs(net, (3, 5, 5)) == macs
    assert training_flops(net, (3, 5, 5), batch=16) == 6 * macs * 16
