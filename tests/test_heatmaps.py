import numpy as np
import torch

from poselab.data.transforms import crop_matrix, transform_points, warp
from poselab.heatmaps import decode_argmax, gaussian_targets, heatmap_to_input, input_to_heatmap, soft_argmax


def test_gaussian_targets_peak_at_the_joint_and_vanish_when_unannotated():
    joints = torch.tensor([[[3.0, 5.0], [10.0, 2.0]]])
    maps = gaussian_targets(joints, torch.tensor([[1.0, 0.0]]), (8, 16), sigma=1.0)
    assert maps.shape == (1, 2, 8, 16)
    assert maps[0, 0, 5, 3] == 1.0 and maps[0, 0].argmax() == 5 * 16 + 3
    assert torch.isclose(maps[0, 0, 5, 4], torch.exp(torch.tensor(-0.5)))
    assert maps[0, 1].abs().sum() == 0


def test_argmax_recovers_integer_peaks_and_shifts_a_quarter_pixel():
    maps = gaussian_targets(torch.tensor([[[4.0, 6.0]]]), torch.ones(1, 1), (16, 16), 1.5)
    coords, peak = decode_argmax(maps)
    assert coords.tolist() == [[[4.0, 6.0]]] and peak.item() == 1.0
    off = gaussian_targets(torch.tensor([[[4.3, 6.0]]]), torch.ones(1, 1), (16, 16), 1.5)
    assert decode_argmax(off)[0].tolist() == [[[4.25, 6.0]]]
    off = gaussian_targets(torch.tensor([[[4.0, 5.8]]]), torch.ones(1, 1), (16, 16), 1.5)
    assert decode_argmax(off)[0].tolist() == [[[4.0, 5.75]]]


def test_soft_argmax_is_differentiable_and_matches_a_sharp_peak():
    maps = gaussian_targets(torch.tensor([[[7.0, 3.0]]]), torch.ones(1, 1), (12, 12), 0.7).requires_grad_()
    coords = soft_argmax(maps, beta=50.0)
    assert torch.allclose(coords, torch.tensor([[[7.0, 3.0]]]), atol=0.05)
    coords.sum().backward()
    assert maps.grad is not None and maps.grad.abs().sum() > 0


def test_heatmap_and_input_coordinates_round_trip():
    pts = torch.tensor([[0.0, 0.0], [1.5, 31.0]])
    assert torch.allclose(input_to_heatmap(heatmap_to_input(pts, 4), 4), pts)
    # Heatmap pixel 0 with stride 4 covers input pixels 0..3, centred at 1.5.
    assert heatmap_to_input(torch.tensor([0.0]), 4).item() == 1.5


def test_crop_matrix_centre_rotation_and_flip():
    m = crop_matrix(np.array([50.0, 40.0]), box=100.0, size=64)
    np.testing.assert_allclose(transform_points([50.0, 40.0], m), [31.5, 31.5])
    np.testing.assert_allclose(transform_points([100.0, 40.0], m), [31.5 + 32.0, 31.5])
    rot = crop_matrix(np.array([50.0, 40.0]), box=100.0, size=64, rotation=90.0)
    # Counter-clockwise on screen: a point to the right of the centre moves up (smaller y).
    np.testing.assert_allclose(transform_points([100.0, 40.0], rot), [31.5, 31.5 - 32.0], atol=1e-9)
    flip = crop_matrix(np.array([50.0, 40.0]), box=100.0, size=64, flip=True)
    np.testing.assert_allclose(transform_points([100.0, 40.0], flip), [31.5 - 32.0, 31.5])
    inv = np.linalg.inv(rot)
    np.testing.assert_allclose(transform_points(transform_points([12.0, 77.0], rot), inv), [12.0, 77.0])


def test_warp_moves_pixels_where_the_matrix_moves_points():
    image = torch.zeros(3, 60, 80)
    image[:, 20, 30] = 1.0
    m = crop_matrix(np.array([40.0, 25.0]), box=40.0, size=40, rotation=30.0, flip=True)
    out = warp(image, m, 40)
    u, v = transform_points([30.0, 20.0], m)
    peak = np.unravel_index(out[0].argmax().item(), (40, 40))
    assert abs(peak[1] - u) <= 1 and abs(peak[0] - v) <= 1
