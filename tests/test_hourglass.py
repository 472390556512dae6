import pytest
import torch

from poselab.checkpoints import strip_prefixes
from poselab.models.hourglass import Hourglass, StackedHourglass, load_reference_state_dict


@pytest.mark.parametrize("stacks, depth, size", [(1, 2, 32), (2, 3, 64), (3, 4, 128), (2, 4, 96)])
def test_output_shapes(stacks, depth, size):
    torch.manual_seed(0)
    model = StackedHourglass(stacks, width=16, n_joints=5, depth=depth, stem=(8, 16)).eval()
    out = model(torch.rand(2, 3, size, size))
    assert out.shape == (2, stacks, 5, size // 4, size // 4)
    assert len(model.levels()) == depth
    assert model.skip_resolutions(size) == [size // 4 // 2**k for k in range(depth)]


def test_parameter_count_equals_the_hand_computed_count():
    # Conv(a, b, k) = a*b*k*k weights + b biases (+ 2b with BatchNorm); Residual(a, b) with m = b/2:
    # BN(a) + Conv(a, m, 1) + BN(m) + Conv(m, m, 3) + BN(m) + Conv(m, b, 1) (+ Conv(a, b, 1) if a != b).
    def conv(a, b, k=1, bn=False):
        return a * b * k * k + b + (2 * b if bn else 0)

    def residual(a, b):
        m = b // 2
        return 2 * a + conv(a, m) + 2 * m + conv(m, m, 3) + 2 * m + conv(m, b) + (conv(a, b) if a != b else 0)

    assert residual(8, 8) == 256 and residual(4, 8) == 272  # worked out on paper
    stem = conv(3, 4, 7, bn=True) + residual(4, 8) + residual(8, 8) + residual(8, 8)
    hourglass_depth1 = 4 * residual(8, 8)  # up1, low1, low2 (innermost residual), low3
    per_stack = hourglass_depth1 + residual(8, 8) + conv(8, 8, bn=True) + conv(8, 3)
    expected = stem + 2 * per_stack + conv(8, 8) + conv(3, 8)
    assert expected == 4278
    model = StackedHourglass(n_stacks=2, width=8, n_joints=3, depth=1, stem=(4, 8))
    assert sum(p.numel() for p in model.parameters()) == expected


def _three_level_model_and_input(seed: int, batch: int):
    torch.manual_seed(seed)
    model = StackedHourglass(2, width=16, n_joints=4, depth=3, stem=(8, 16)).eval()
    return model, torch.rand(batch, 3, 64, 64)


def test_switching_skips_off_changes_the_output_and_back_on_restores_it_exactly():
    model, x = _three_level_model_and_input(seed=1, batch=2)
    with torch.no_grad():
        on = model(x)
        weights = {k: v.clone() for k, v in model.state_dict().items()}
        off = model.set_skips(False)(x)
        assert model.skips() == [False, False, False]
        assert not torch.allclose(on, off, atol=1e-4)
        restored = model.set_skips(True)(x)
    assert torch.equal(on, restored)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in weights.items())


def test_skips_switch_one_scale_at_a_time():
    model, x = _three_level_model_and_input(seed=2, batch=1)
    with torch.no_grad():
        on = model(x)
        outs = []
        for scale in range(3):
            model.set_skips(True).set_skips(False, [scale])
            assert model.skips() == [k != scale for k in range(3)]
            assert all(not lv.skip for st in range(2) for k, lv in enumerate(model.levels(st)) if k == scale)
            outs.append(model(x))
    for o in outs:
        assert not torch.allclose(o, on, atol=1e-5)
    assert not torch.allclose(outs[0], outs[2], atol=1e-5)


def test_a_level_without_skip_returns_the_upsampled_lower_branch():
    torch.manual_seed(3)
    level = Hourglass(1, 8, skip=False).eval()
    x = torch.rand(1, 8, 8, 8)
    with torch.no_grad():
        low = level.low3(level.low2(level.low1(level.pool1(x))))
        expected = low.repeat_interleave(2, -1).repeat_interleave(2, -2)
        assert torch.equal(level(x), expected)


def test_reference_checkpoints_load():
    model = StackedHourglass(2, width=16, n_joints=4, depth=2, stem=(8, 16))
    reference = {f"model.{k}": torch.randn_like(v) if v.is_floating_point() else v
                 for k, v in model.state_dict().items()}
    # The reference implementation also carries unused 1x1 skip layers in same-width residuals.
    reference["model.hgs.0.0.up1.skip_layer.conv.weight"] = torch.zeros(16, 16, 1, 1)
    reference["model.hgs.0.0.up1.skip_layer.conv.bias"] = torch.zeros(16)
    fresh = StackedHourglass(2, width=16, n_joints=4, depth=2, stem=(8, 16))
    load_reference_state_dict(fresh, {"state_dict": reference})
    assert torch.equal(fresh.outs[1].conv.weight, reference["model.outs.1.conv.weight"])
    del reference["model.outs.1.conv.weight"]
    with pytest.raises(ValueError, match="outs.1.conv.weight"):
        load_reference_state_dict(fresh, reference)


@pytest.mark.parametrize("prefix", ["model.module.", "module.model.", "module.", "model.", "module.module.", ""])
def test_reference_checkpoints_load_with_wrapper_prefixes_in_any_order(prefix):
    model = StackedHourglass(1, width=8, n_joints=4, depth=1, stem=(8, 8))
    torch.manual_seed(5)
    weights = {k: torch.randn_like(v) if v.is_floating_point() else v for k, v in model.state_dict().items()}
    fresh = StackedHourglass(1, width=8, n_joints=4, depth=1, stem=(8, 8))
    load_reference_state_dict(fresh, {"state_dict": {prefix + k: v for k, v in weights.items()}})
    assert all(torch.equal(v, weights[k]) for k, v in fresh.state_dict().items())


def test_strip_prefixes_keeps_names_that_only_contain_a_prefix():
    state = {"model.module.pre.0.weight": 1, "pre.model.x": 2, "modules.y": 3}
    assert strip_prefixes(state) == {"pre.0.weight": 1, "pre.model.x": 2, "modules.y": 3}


def test_bottleneck_is_the_third_residual_at_the_lowest_resolution():
    model = StackedHourglass(1, width=16, n_joints=4, depth=3, stem=(8, 16)).eval()
    seen = {}

    def hook(module, inputs, output):
        seen["shape"] = output.shape

    model.bottleneck().register_forward_hook(hook)
    model(torch.rand(2, 3, 128, 128))
    assert seen["shape"] == (2, 16, 4, 4)  # 128 input -> 32x32 features -> three poolings -> 4x4
