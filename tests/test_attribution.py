"""PoseIG (poselab.studies.poseig): paths, integrated gradients, indices, perturbation, randomisation, inversion."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from poselab.data.dataset import ImageSet
from poselab.data.joints import MPII16
from poselab.data.pose_dataset import HeatmapDataset, SyntheticSource
from poselab.data.transforms import crop_matrix, warp
from poselab.evaluation.predict import predict, stack_output
from poselab.models.hourglass import StackedHourglass
from poselab.studies.poseig import ig, indices, joints, paths, perturbation, randomization
from poselab.studies.poseig.attribute import Attributor, attribute_model, speed_comparison, validation_samples
from poselab.studies.poseig.inference import inference_form
from poselab.studies.poseig.outputs import JointCoordinates, JointTargets, separable_resampling
from poselab.studies.poseig.settings import PoseIGStudy


def _hourglass(seed=0, dtype=torch.float32):
    torch.manual_seed(seed)
    return StackedHourglass(2, width=8, n_joints=16, depth=1, stem=(4, 8)).eval().to(dtype)


def _coordinates(model, size=48, input_size=32):
    return JointCoordinates(model, crop_matrix(np.full(2, (size - 1) / 2), size, input_size), input_size)


# ------------------------------------------------------------------------------------------------ indices


def test_gini_of_a_uniform_map_is_zero_and_of_a_one_hot_map_approaches_one():
    assert float(indices.gini(torch.ones(1000))) == pytest.approx(0.0, abs=1e-12)
    one_hot = torch.zeros(10000)
    one_hot[123] = 1
    assert float(indices.gini(one_hot)) == pytest.approx(1 - 1 / 10000)
    assert float(indices.diffusion_index(torch.ones(8, 8))) == pytest.approx(100.0)
    # the textbook value for (1, 2, 3, 4): sum |xi - xj| / (2 n^2 mean) = 20 / 40
    assert float(indices.gini(torch.tensor([4.0, 1.0, 3.0, 2.0]))) == pytest.approx(0.25)
    assert torch.isnan(indices.gini(torch.zeros(5)))


def test_foreground_index_of_a_map_inside_the_mask_is_pixels_over_mask_pixels():
    mask = torch.zeros(20, 30, dtype=bool)
    mask[5:15, 10:20] = True
    dilated = indices.dilate(mask, 5)
    assert int(dilated.sum()) == 14 * 14  # a 10x10 square grows by 2 pixels on every side
    inside = torch.zeros(20, 30)
    inside[6:12, 11:15] = torch.rand(6, 4) + 0.1
    assert float(indices.foreground_index(inside, mask)) == pytest.approx(600 / 196)
    assert float(indices.foreground_index(inside, mask, dilation=1)) == pytest.approx(600 / 100)
    assert float(indices.foreground_index(torch.ones(20, 30), mask)) == pytest.approx(1.0)  # blind to the person
    outside = torch.zeros(20, 30)
    outside[0, 0] = 1
    assert float(indices.foreground_index(outside, mask)) == 0.0


def test_localization_index_on_a_hand_made_case():
    heat = torch.zeros(4, 4)
    heat[1, 1], heat[1, 2] = 1.0, 0.5  # mass 1.5
    m = torch.zeros(4, 4)
    m[1, 1], m[3, 3] = 1.0, 1.0  # half the map on the joint's peak
    # share under the heatmap = (1 * 1) / 2, times 16 pixels / 1.5
    assert float(indices.localization_index(m, heat)) == pytest.approx(0.5 * 16 / 1.5)
    assert float(indices.localization_index(torch.ones(4, 4), heat)) == pytest.approx(1.0)
    cross = indices.cross_localization(torch.stack([m, torch.ones(4, 4)]), torch.stack([heat, heat.flip(0)]))
    assert cross.shape == (2, 2) and float(cross[0, 0]) == pytest.approx(0.5 * 16 / 1.5)
    assert float(cross[0, 1]) == pytest.approx(0.0)  # the flipped Gaussian sits at rows 2, not under the map


def test_joint_heatmaps_peak_at_the_joint():
    hm = indices.joint_heatmaps(torch.tensor([[3.0, 5.0]]), (8, 10), 1.5)
    assert hm.shape == (1, 8, 10) and float(hm[0, 5, 3]) == 1.0 and hm[0].argmax() == 5 * 10 + 3


def test_attribution_map_is_the_normalised_absolute_channel_sum():
    a = torch.zeros(2, 3, 4, 4)
    a[0, 0, 1, 1], a[0, 1, 1, 1], a[0, 2, 2, 2] = 2.0, -4.0, 1.0  # channel sum -2 at (1, 1), 1 at (2, 2)
    m = indices.attribution_map(a)
    assert float(m[0, 1, 1]) == 1.0 and float(m[0, 2, 2]) == 0.5 and m[1].abs().sum() == 0  # zeros stay zeros


def test_resampled_map_keeps_the_values():
    g = torch.Generator().manual_seed(0)
    m = torch.rand(3, 6, 7)
    r = indices.resampled_map(m, g)
    assert not torch.equal(r, m)
    assert torch.equal(r.flatten(1).sort(1).values, m.flatten(1).sort(1).values)


# ------------------------------------------------------------------------------------------------ paths and IG


def test_blur_path_starts_at_the_most_blurred_image_and_ends_at_the_input():
    torch.manual_seed(0)
    image = torch.rand(3, 32, 32)
    path = paths.blur_path(image, 8, sigma_max=3.0, kernel=19)
    assert path.shape == (9, 3, 32, 32)
    assert torch.equal(path[-1], image)
    assert torch.allclose(path[0], paths.gaussian_blur(image[None], 3.0, 19)[0])
    roughness = [float((p[:, :, 1:] - p[:, :, :-1]).abs().mean()) for p in path]
    assert roughness == sorted(roughness)  # sharper at every step (the kernel holds 3 sigma)
    assert paths.blur_settings(256) == (19.0, 31) and paths.blur_settings(128) == (9.5, 15)
    assert float(paths.gaussian_kernel(15, 2.0).sum()) == pytest.approx(1.0)


def test_on_a_linear_model_the_attributions_sum_exactly_to_the_change_of_the_output():
    torch.manual_seed(0)
    w = torch.randn(4, 3, 8, 8, dtype=torch.float64)

    def f(x):  # four outputs, each linear in the image
        return torch.einsum("jchw,bchw->bj", w, x) + 0.5

    x = torch.rand(3, 8, 8, dtype=torch.float64)
    for path in (paths.blur_path(x, 5, 2.0, 5), paths.straight_path(x, torch.zeros_like(x), 7)):
        for rule in ig.RULES:
            attr = ig.path_integrated_gradients(f, path, rule)
            total, change = ig.completeness(f, attr, path)
            assert torch.allclose(total, change, rtol=1e-12, atol=1e-12)
            assert torch.allclose(change, f(x[None])[0] - f(path[:1])[0])


def test_all_joints_in_one_batched_backward_equal_the_authors_loop():
    model = _hourglass(dtype=torch.float64)
    coords = _coordinates(model).double()
    torch.manual_seed(1)
    image = torch.rand(3, 48, 48, dtype=torch.float64)
    f = JointTargets(coords, torch.rand(16, 2) * 47, unit=48 / 64).double()
    path = paths.blur_path(image, 5, *paths.blur_settings(48))
    loop = ig.looped_integrated_gradients(f, path)
    for per_backward in (None, 4, 1):
        fast = ig.path_integrated_gradients(f, path, joints_per_backward=per_backward, points_per_batch=3)
        assert fast.shape == (16, 3, 48, 48)
        scale = loop.flatten(1).abs().amax(1)
        assert ((fast - loop).flatten(1).abs().amax(1) / scale).max() < 1e-10


def test_straight_line_ig_equals_captum():
    model = _hourglass(seed=2, dtype=torch.float64)
    f = JointTargets(_coordinates(model).double(), torch.rand(16, 2) * 47, unit=48 / 64).double()
    torch.manual_seed(3)
    image = torch.rand(3, 48, 48, dtype=torch.float64)
    for baseline in (paths.solid_baseline(image, 0.0), paths.solid_baseline(image, 1.0)):
        n = 6
        left = ig.path_integrated_gradients(f, paths.straight_path(image, baseline, n), "left")
        # captum's trapezoid takes n points 1/(n - 1) apart but steps of 1/n: (n - 1)/n of the integral
        trapezoid = ig.path_integrated_gradients(f, paths.straight_path(image, baseline, n - 1), "trapezoid")
        for joint in (0, 9):
            for ours, method, scale in ((left, "riemann_left", 1.0), (trapezoid, "riemann_trapezoid", (n - 1) / n)):
                theirs, delta = ig.captum_integrated_gradients(f, image, baseline, joint, n, method)
                tol = 1e-5 * float(theirs.abs().max())
                assert torch.allclose(ours[joint] * scale, theirs, rtol=1e-5, atol=tol)
            total, change = ig.completeness(f, left, paths.straight_path(image, baseline, 1))
            _, delta = ig.captum_integrated_gradients(f, image, baseline, joint, n, "riemann_left")
            assert delta == pytest.approx(float(total[joint] - change[joint]), abs=1e-9)


def test_the_separable_crop_is_the_bilinear_warp():
    torch.manual_seed(4)
    image = torch.rand(3, 40, 56, dtype=torch.float64)  # not square: rows and columns differ
    # a zoom, a mirrored crop reaching outside the image (zeros there), and a downscale of the whole image
    for matrix, size in ((crop_matrix(np.array([20.0, 17.0]), 30, 24), 24),
                         (crop_matrix(np.array([5.0, 35.0]), 44, 24, flip=True), 24),
                         (crop_matrix(np.array([27.5, 19.5]), 56, 16), 16)):
        rows, cols = (torch.from_numpy(a) for a in separable_resampling(matrix, 40, 56, size))
        assert torch.allclose(rows @ image @ cols.T, warp(image, matrix, size), atol=1e-12)
    assert separable_resampling(crop_matrix(np.array([20.0, 20.0]), 30, 24, rotation=10), 40, 56, 24) is None
    coords = JointCoordinates(_hourglass(), crop_matrix(np.array([20.0, 17.0]), 30, 32), 32)
    plain = JointCoordinates(coords.model, coords.matrix, 32, separable=False)
    batch = torch.rand(2, 3, 40, 56)
    assert coords.resampling(40, 56) is not None and plain.resampling(40, 56) is None
    assert torch.allclose(coords.crop(batch), plain.crop(batch), atol=1e-6)
    exact = coords.crop(batch.double())  # in float32 the matrix crop is the closer one to the float64 warp
    assert (coords.crop(batch).double() - exact).abs().max() < (plain.crop(batch).double() - exact).abs().max()


@pytest.mark.parametrize("family", ["hourglass", "hrnet", "simplebaseline"])
def test_the_inference_form_is_the_same_function_without_batchnorm(family):
    from poselab.models import build_model
    from poselab.profiles import PROFILES

    smoke = PROFILES["smoke"]
    sb = smoke.poseig.simplebaseline
    spec, size = {"hourglass": (smoke.hourglass.spec(2), smoke.hourglass.input_size),
                  "hrnet": (smoke.hrnet.spec("as designed"), smoke.hrnet.input_size),
                  "simplebaseline": (sb.spec(16), sb.input_size)}[family]
    torch.manual_seed(5)
    model = build_model(spec).double()
    model.train()
    with torch.no_grad():  # running statistics that are not the initial (0, 1), so the folding is exercised
        model(torch.rand(8, 3, size, size, dtype=torch.float64))
    model.eval()
    fast = inference_form(model)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in fast.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules())  # the original is untouched
    assert all(p.requires_grad for p in model.parameters()) and not any(p.requires_grad for p in fast.parameters())
    x = torch.rand(2, 3, size, size, dtype=torch.float64, requires_grad=True)
    out, ref = stack_output(fast, fast(x)), stack_output(model, model(x))
    assert torch.allclose(out, ref, rtol=1e-10, atol=1e-12)
    cot = torch.rand_like(ref)
    grad, grad_ref = torch.autograd.grad(out, x, cot)[0], torch.autograd.grad(ref, x, cot)[0]
    assert torch.allclose(grad, grad_ref, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------------------------------------ common output


class _FixedPoint(nn.Module):
    """A coordinate model that puts every joint at input pixel (3, 5)."""

    outputs = "coordinates"

    def forward(self, images):
        return torch.tensor([3.0, 5.0]).expand(len(images), 1, 16, 2)


def test_common_output_space_crops_and_maps_back_as_the_data_pipeline(tiny_sets):
    src = SyntheticSource(ImageSet(tiny_sets["pose2d"], "val"))
    ds = HeatmapDataset(src, 32, indices=np.arange(4))
    coords = JointCoordinates(_hourglass(), ds.matrix(0)[0], 32)
    x = torch.from_numpy(np.stack([src.image(i) for i in range(4)])).permute(0, 3, 1, 2).float() / 255
    assert torch.allclose(coords.crop(x), torch.stack([ds[i]["image"] for i in range(4)]), atol=1e-6)
    fixed = _FixedPoint()
    assert np.allclose(JointCoordinates(fixed, ds.matrix(0)[0], 32)(x).numpy(), predict(fixed, ds).joints, atol=1e-5)


def test_targets_are_one_at_the_ground_truth_and_fall_with_the_distance():
    model = _hourglass()
    coords = _coordinates(model)
    x = torch.rand(2, 3, 48, 48)
    pred = coords(x)
    t = JointTargets(coords, pred[0].detach(), unit=0.75, factor=0.3)(x)
    assert torch.allclose(t[0], torch.ones(16))
    d = (pred[1] - pred[0]).norm(dim=-1)
    assert torch.allclose(t[1], torch.exp(-0.3 * d / 0.75), atol=1e-6)


# ------------------------------------------------------------------------------------------------ sanity tests


def _people(tiny_sets, n=6):
    return validation_samples(SyntheticSource(ImageSet(tiny_sets["pose2d"], "val")), n, seed=0)


def test_the_perturbation_ratio_of_a_map_against_its_own_resampling_is_near_one(tiny_sets):
    """When the 'attribution' map is itself a random shuffle, nothing distinguishes it from the randomised map:
    R_E is about 1 (here on a random model, over many random maps and fills)."""
    people = _people(tiny_sets, 8)
    coords = _coordinates(_hourglass(seed=4))
    g = torch.Generator().manual_seed(0)
    errs = {"origin": [], "attr": [], "rand": []}
    for _ in range(6):
        for i in range(len(people)):
            base = torch.rand(16, 48, 48, generator=g)
            e = perturbation.perturbation_errors(coords, people.images[i], people.joints[i],
                                                 indices.resampled_map(base, g), indices.resampled_map(base, g),
                                                 perturbation.perturbation_masks(people.images[i], g))
            for k in errs:
                errs[k].append(e[k])
    origin, attr, rand = (np.stack(errs[k]) for k in ("origin", "attr", "rand"))
    r = perturbation.relative_error_change(origin, attr, rand, np.ones(origin.shape, bool))
    assert r.shape == (4, 16)
    pooled = np.abs(attr - origin[:, None]).sum() / np.abs(rand - origin[:, None]).sum()
    assert pooled == pytest.approx(1.0, abs=0.1)
    assert 0.5 < np.median(r) < 1.5


def test_perturbation_masks_and_eq1():
    g = torch.Generator().manual_seed(0)
    image = torch.rand(3, 10, 12)
    masks = perturbation.perturbation_masks(image, g)
    assert set(masks) == set(perturbation.MASKS)
    assert torch.allclose(masks["M_m"][:, 0, 0], image.mean(dim=(1, 2)))
    assert torch.equal(masks["M_ro"].flatten(1).sort(1).values, image.flatten(1).sort(1).values)
    assert all(0 <= float(m.min()) and float(m.max()) <= 1 for m in masks.values())
    g_map = torch.zeros(10, 12)
    g_map[2, 3] = 1.0
    out = perturbation.perturb(image, g_map, masks["M_ru"])
    assert torch.equal(out[:, 2, 3], masks["M_ru"][:, 2, 3]) and torch.equal(out[:, 0, 0], image[:, 0, 0])


def test_a_faithful_map_moves_the_error_more_than_a_random_one():
    """On a model that only looks at one pixel, the map that marks that pixel has R_E far above 1."""

    def coords(x):  # one joint whose x coordinate is the red value of pixel (4, 4), times 40
        return torch.stack([40 * x[:, 0, 4, 4], torch.zeros(len(x))], -1)[:, None]

    g = torch.Generator().manual_seed(0)
    errs = []
    for _ in range(20):
        image = torch.rand(3, 10, 10, generator=g)
        m = torch.rand(1, 10, 10, generator=g) * 0.2
        m[0, 4, 4] = 1.0
        e = perturbation.perturbation_errors(coords, image, torch.zeros(1, 2), m, indices.resampled_map(m, g),
                                             perturbation.perturbation_masks(image, g))
        errs.append(e)
    origin, attr, rand = (np.stack([e[k] for e in errs]) for k in ("origin", "attr", "rand"))
    r = perturbation.relative_error_change(origin, attr, rand, np.ones((20, 1), bool))
    assert (r > 3).all()


def test_randomising_layers_from_the_output_back(tiny_sets):
    model = _hourglass()
    x = torch.rand(1, 3, 32, 32)
    layers = randomization.conv_layers(model, x)
    assert len(layers) == sum(isinstance(m, nn.Conv2d) for m in model.modules())
    assert layers[0] is model.pre[0].conv and layers[-1] is model.outs[1].conv  # forward order
    counts = randomization.randomization_counts(len(layers), 5)
    assert len(counts) == 5 and counts[-1] == len(layers) and counts == sorted(counts)
    part = randomization.randomized_copy(model, x, 3, seed=1)
    again = randomization.conv_layers(part, x)
    changed = [not torch.equal(a.weight, b.weight) for a, b in zip(layers, again, strict=True)]
    assert changed == [False] * (len(layers) - 3) + [True] * 3
    assert torch.equal(randomization.randomized_copy(model, x, 3, seed=1).outs[1].conv.weight, part.outs[1].conv.weight)
    # Randomising every layer changes where the evidence is: DI moves.
    people = _people(tiny_sets, 3)
    matrix = crop_matrix(np.full(2, 23.5), 48, 32)
    trained = attribute_model("m", Attributor(model, matrix, 32, 48, steps=4), people, progress=False)
    scrambled = randomization.randomized_copy(model, x, len(layers), seed=1)
    random = attribute_model("r", Attributor(scrambled, matrix, 32, 48, steps=4), people, progress=False)
    assert np.nanmean(np.abs(random.di - trained.di)) > 1.0


def test_attributing_a_model_gives_maps_indices_and_completeness(tiny_sets):
    people = _people(tiny_sets, 3)
    assert people.images.shape == (3, 3, 48, 48) and people.masks.dtype == torch.bool
    att = Attributor(_hourglass(), crop_matrix(np.full(2, 23.5), 48, 32), 32, 48, steps=4)
    res = attribute_model("hg", att, people, progress=False)
    assert res.maps.shape == (3, 16, 48, 48) and float(res.maps.amax()) == 1.0
    assert res.di.shape == res.fi.shape == res.li.shape == (3, 16) and np.isfinite(res.di).all()
    assert np.allclose(res.epe, np.linalg.norm(res.pred - people.joints.numpy(), axis=-1))
    frame = res.frame(people)
    assert len(frame) == people.annotated.sum() and set(frame["group"]) <= {"trunk", "branch", "leaf"}
    table = speed_comparison(att, people.images[0], people.joints[0])
    assert len(table) == 5 and (table["max relative difference of attributions"] < 1e-4).all()
    assert table.iloc[0]["speed-up over the authors' loop"] == table.iloc[1]["speed-up over the frozen loop"] == 1.0
    assert not any(p.requires_grad for p in att.reference.model.parameters())  # frozen again after the authors' loop
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in att.coordinates.model.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in att.reference.model.modules())


# ------------------------------------------------------------------------------------------------ joints


def test_joint_groups_and_inversion_relations():
    groups = joints.joint_groups("mpii16")
    name = dict(zip(MPII16.names, groups, strict=True))
    assert name["l_shoulder"] == "trunk" and name["r_knee"] == "branch" and name["head_top"] == "leaf"
    coco = dict(zip(joints.get_convention("coco17").names, joints.joint_groups("coco17"), strict=True))
    assert coco["nose"] == coco["l_ear"] == "leaf" and coco["r_hip"] == "trunk"
    assert joints.relation("l_wrist", "r_wrist") == "symmetric"
    assert joints.relation("r_wrist", "r_elbow") == "child-as-parent"
    assert joints.relation("l_knee", "l_ankle") == "parent-as-child"
    assert joints.relation("l_wrist", "r_ankle") == "other"


def test_inversions_find_a_joint_predicted_at_its_symmetric_partner():
    gt = np.zeros((2, 16, 2))
    gt[:, :, 0] = np.arange(16) * 10.0  # joints 10 pixels apart along x
    pred = gt.copy()
    lw, rw = MPII16.index("l_wrist"), MPII16.index("r_wrist")
    pred[0, lw] = gt[0, rw] + 1  # sample 0: left wrist predicted on the right wrist
    ann = np.ones((2, 16), bool)
    found = joints.inversions(pred, gt, ann, np.full(2, 8.0), 0.5, "mpii16")
    assert found.to_dict("records") == [{"sample": 0, "joint": lw, "at": rw, "relation": "symmetric"}]
    ann[0, rw] = False  # the partner is not annotated: no inversion can be claimed
    assert joints.inversions(pred, gt, ann, np.full(2, 8.0), 0.5, "mpii16").empty
    counts = joints.pair_counts(np.ones((1, 16), bool), "mpii16")
    assert counts["symmetric"] == 12 and counts["child-as-parent"] == counts["parent-as-child"] == 8


def test_study_settings_are_usable():
    study = replace(PoseIGStudy(), steps=3)
    assert study.rule in ig.RULES and study.integral_train.loss == "integral"


# ------------------------------------------------------------------------------------------------ fidelity, control


class _PerfectHeatmaps(nn.Module):
    """Outputs the training target of fixed joints (input pixels), whatever the image: a perfect model."""

    def __init__(self, joints_input: torch.Tensor, input_size: int = 32, stride: int = 4):
        super().__init__()
        from poselab.heatmaps import gaussian_targets, input_to_heatmap
        from poselab.studies.poseig.outputs import target_sigma

        side = input_size // stride
        self.scale = nn.Parameter(torch.ones(()))
        self.register_buffer("maps", gaussian_targets(input_to_heatmap(joints_input, stride)[None],
                                                      torch.ones(1, len(joints_input)), (side, side),
                                                      target_sigma(side)))

    def forward(self, x):
        return self.maps.expand(len(x), -1, -1, -1) * self.scale + 0 * x.mean()


def test_target_sigma_is_the_training_targets_sigma(tiny_sets):
    from poselab.studies.poseig.outputs import target_sigma

    source = SyntheticSource(ImageSet(tiny_sets["pose2d"], "train"))
    for size in (32, 64, 256):
        assert target_sigma(size // 4) == HeatmapDataset(source, size).sigma


def test_the_authors_target_scores_one_for_a_heatmap_that_equals_its_training_target():
    size, input_size = 48, 32
    matrix = crop_matrix(np.full(2, (size - 1) / 2), size, input_size)
    gt = torch.tensor([[10.0, 12.0], [30.3, 20.7], [24.0, 40.0]])
    from poselab.data.transforms import transform_points

    model = _PerfectHeatmaps(torch.as_tensor(transform_points(gt.numpy(), matrix), dtype=torch.float32)).eval()
    x = torch.rand(1, 3, size, size)
    authors = Attributor(model, matrix, input_size, size, steps=2, channels_last=False)
    joint = Attributor(model, matrix, input_size, size, steps=2, channels_last=False, target="joint")
    assert torch.allclose(authors.targets(gt)(x), torch.ones(1, 3), atol=1e-5)
    below = joint.targets(gt)(x)
    assert (below < 0.999).all()  # the soft-argmax is pulled towards the heatmap's centre
    assert torch.allclose(authors.target_point(gt), authors.coordinates(x)[0], atol=1e-4)
    with pytest.raises(ValueError, match="target must be one of"):
        Attributor(model, matrix, input_size, size, target="argmax")


def test_the_geometry_control_on_a_hand_made_mask():
    """An ideal map sharp enough to be one pixel: FI = pixels / dilated-mask pixels inside the mask, 0 far outside."""
    from poselab.data.joints import MPII16
    from poselab.studies.poseig.attribute import IDEAL, Samples, geometry_control, ideal_maps

    n_j = MPII16.n_joints
    mask = torch.zeros(1, 16, 16, dtype=torch.bool)
    mask[0, 6:8, 6:8] = True  # 2x2; dilated by the 5x5 max-pool: rows and columns 4..9, 36 pixels
    joints = torch.full((1, n_j, 2), 6.0)
    joints[0, 1] = torch.tensor([15.0, 0.0])  # outside the dilated mask
    annotated = np.zeros((1, n_j), bool)
    annotated[0, :2] = True
    people = Samples(torch.rand(1, 3, 16, 16), mask, joints, annotated, np.ones(1), np.zeros(1, int), MPII16)
    assert ideal_maps(people, 0, sigma=0.05)[0].max() == 1
    f = geometry_control(people, sigma=0.05)
    assert list(f["model"].unique()) == [IDEAL] and len(f) == 2
    assert f["fi"].iloc[0] == pytest.approx(256 / 36, rel=1e-5)
    assert f["fi"].iloc[1] == pytest.approx(0.0, abs=1e-6)
    assert f["di"].iloc[0] < 1  # all on one pixel: Gini near 1


def test_the_authors_li_heatmap_is_their_rounded_cut_off_target_resized():
    joint = torch.tensor([[100.3, 50.6]])
    hm = indices.authors_joint_heatmaps(joint, (256, 192))[0]
    assert hm.shape == (256, 192)
    y, x = divmod(int(hm.argmax()), 192)
    centre = (25 * 4 + 1.5, 13 * 4 + 1.5)  # heatmap pixel (25, 13): the rounded 100.3 / 4 and 50.6 / 4
    assert abs(x - centre[0]) <= 1 and abs(y - centre[1]) <= 1
    assert hm[:, 140:].abs().max() == 0  # cut off beyond 3 sigma (6 heatmap pixels, 24 source pixels)


def test_zero_maps_are_counted_and_left_out():
    from poselab.studies.poseig.attribute import ModelAttributions, Samples, completeness_table

    n, j = 2, MPII16.n_joints
    di = np.full((n, j), 20.0)
    di[1, 3] = np.nan
    r = ModelAttributions("m", torch.zeros(n, j, 4, 4), np.zeros((n, j, 2)), np.zeros((n, j)), di, di.copy(),
                          di.copy(), np.ones((n, j)), np.ones((n, j)), 1.0)
    people = Samples(torch.zeros(n, 3, 4, 4), torch.zeros(n, 4, 4, dtype=torch.bool), torch.zeros(n, j, 2),
                     np.ones((n, j), bool), np.ones(n), np.arange(n), MPII16)
    assert completeness_table({"m": r}, people).loc["m", "maps without attribution"] == 1
    assert r.frame(people)["di"].isna().sum() == 1
