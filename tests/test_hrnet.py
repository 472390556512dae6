import json
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from poselab.models.hrnet import (
    BasicBlock,
    Bottleneck,
    CheckpointMismatchError,
    HighResolutionModule,
    HRNet,
    hrnet_narrow,
    hrnet_w32,
    hrnet_w48,
    load_official_checkpoint,
)

# Keys and shapes of the official MPII pose_hrnet_w32_256x256 state dict, derived from the official code and
# configuration independently of poselab's model (see the file's "description").
OFFICIAL_W32 = json.loads((Path(__file__).parent / "data" / "hrnet_w32_mpii_state_dict.json").read_text())
BN_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")
VARIANTS = {"as designed": dict(norm="batch", act="relu"), "no batchnorm": dict(norm="none", act="relu"),
            "no batchnorm, identity": dict(norm="none", act="identity")}
TINY = dict(width=8, blocks=1, stem_width=8)  # the smallest model with the full 4-branch topology


@pytest.fixture(scope="module")
def w32() -> HRNet:
    return hrnet_w32()


def spec_state_dict(spec: dict[str, list[int]], seed: int = 0) -> dict[str, torch.Tensor]:
    """Random tensors of the recorded shapes (positive running variances, an integer batch counter)."""
    gen = torch.Generator().manual_seed(seed)
    state = {k: torch.randn(shape, generator=gen) for k, shape in spec.items()}
    for k in state:
        if k.endswith("running_var"):
            state[k] = state[k].abs() + 0.5
        elif k.endswith("num_batches_tracked"):
            state[k] = torch.tensor(7)
    return state


# ----------------------------------------------------------------------------------------------------------
# Official names, shapes and parameter counts


def test_recorded_official_spec_agrees_with_the_published_facts():
    spec = OFFICIAL_W32["state_dict"]
    assert len(spec) == OFFICIAL_W32["entries"] == 1754
    n_params = sum(math.prod(s) for k, s in spec.items() if not k.endswith(BN_BUFFERS))
    assert n_params == OFFICIAL_W32["parameters"] == 28_536_080


def test_w32_state_dict_keys_and_shapes_equal_the_official_ones(w32):
    ours = {k: list(v.shape) for k, v in w32.state_dict().items()}
    spec = OFFICIAL_W32["state_dict"]
    assert sorted(set(spec) - set(ours)) == [] and sorted(set(ours) - set(spec)) == []
    assert ours == spec


def test_w32_parameter_count_matches_official_and_published(w32):
    n = sum(p.numel() for p in w32.parameters())
    assert n == 28_536_080
    assert abs(n - 28.5e6) / 28.5e6 < 0.01


def test_w48_parameter_count_matches_official_and_published():
    # Derived from the official code with experiments/mpii/hrnet/w48_256x256_adam_lr1e-3.yaml; 63.6M is the
    # published COCO figure (17 joints: one more 48-channel head filter and bias).
    assert sum(p.numel() for p in hrnet_w48().parameters()) == 63_595_696
    n17 = sum(p.numel() for p in hrnet_w48(n_joints=17).parameters())
    assert n17 == 63_595_696 + 49
    assert abs(n17 - 63.6e6) / 63.6e6 < 0.01


def test_an_official_state_dict_loads_strictly(w32):
    state = spec_state_dict(OFFICIAL_W32["state_dict"])
    loaded = w32.load_state_dict(state, strict=True)
    assert not loaded.missing_keys and not loaded.unexpected_keys and len(state) == len(w32.state_dict())
    key = "stage4.2.fuse_layers.0.3.0.weight"  # 1/32 branch -> 1/4 branch in the last module
    assert torch.equal(w32.state_dict()[key], state[key])
    assert w32.final_layer.weight.shape == (16, 32, 1, 1)


# ----------------------------------------------------------------------------------------------------------
# Loading checkpoint files


def test_load_official_checkpoint_file(tmp_path, w32):
    state = spec_state_dict(OFFICIAL_W32["state_dict"], seed=1)
    torch.save(state, tmp_path / "pose_hrnet_w32_256x256.pth")
    model = load_official_checkpoint(w32, tmp_path / "pose_hrnet_w32_256x256.pth")
    assert model is w32
    assert all(torch.equal(v, state[k]) for k, v in w32.state_dict().items())


@pytest.mark.parametrize("prefix", ["module.", "model.module.", "module.model."])
def test_load_training_checkpoint_with_dataparallel_prefix(tmp_path, prefix):
    src, dst = hrnet_narrow(**TINY), hrnet_narrow(**TINY, init="kaiming")
    wrapped = {"epoch": 3, "state_dict": {f"{prefix}{k}": v for k, v in src.state_dict().items()}}
    torch.save(wrapped, tmp_path / "checkpoint.pth")
    load_official_checkpoint(dst, tmp_path / "checkpoint.pth")
    assert all(torch.equal(v, src.state_dict()[k]) for k, v in dst.state_dict().items())


def test_checkpoint_mismatch_lists_missing_unexpected_and_shapes(tmp_path):
    model = hrnet_narrow(**TINY)
    state = dict(model.state_dict())
    del state["stage3.0.fuse_layers.2.0.1.0.weight"]
    state["head.extra"] = torch.zeros(1)
    state["final_layer.weight"] = torch.zeros(17, 8, 1, 1)
    torch.save(state, tmp_path / "bad.pth")
    with pytest.raises(CheckpointMismatchError) as err:
        load_official_checkpoint(model, tmp_path / "bad.pth")
    msg = str(err.value)
    assert "1 missing keys" in msg and "stage3.0.fuse_layers.2.0.1.0.weight" in msg
    assert "1 unexpected keys" in msg and "head.extra" in msg
    assert "final_layer.weight: checkpoint (17, 8, 1, 1), model (16, 8, 1, 1)" in msg


def test_official_checkpoint_does_not_fit_the_batchnorm_free_variant(tmp_path):
    model = hrnet_narrow(**TINY, norm="none")
    torch.save(hrnet_narrow(**TINY).state_dict(), tmp_path / "official_layout.pth")
    with pytest.raises(CheckpointMismatchError, match=r"(?s)missing keys:.*conv1\.bias.*unexpected keys:.*bn1"):
        load_official_checkpoint(model, tmp_path / "official_layout.pth")


def test_not_a_state_dict_is_a_clear_error(tmp_path):
    torch.save({"epoch": 3, "perf": 0.9}, tmp_path / "x.pth")
    with pytest.raises(CheckpointMismatchError, match="not a state dict"):
        load_official_checkpoint(hrnet_narrow(**TINY), tmp_path / "x.pth")


# ----------------------------------------------------------------------------------------------------------
# Shapes and structure


@pytest.mark.parametrize("size", [(64, 64), (96, 128), (256, 256)])
def test_heatmaps_at_a_quarter_of_the_input_resolution(size):
    torch.manual_seed(0)
    model = hrnet_narrow(n_joints=13, **TINY).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, *size))
    assert out.shape == (2, 13, size[0] // 4, size[1] // 4)


def test_w32_forward_shape(w32):
    with torch.no_grad():
        assert w32.eval()(torch.randn(1, 3, 64, 96)).shape == (1, 16, 16, 24)


def test_input_size_not_a_multiple_of_32_is_a_clear_error():
    with pytest.raises(ValueError, match="divisible by 32"):
        hrnet_narrow(**TINY)(torch.randn(1, 3, 64, 80))


def test_residual_blocks_add_their_shortcut():
    torch.manual_seed(0)
    x = torch.randn(2, 8, 16, 16)
    basic = BasicBlock(8, norm="none")
    nn.init.zeros_(basic.conv2.weight), nn.init.zeros_(basic.conv2.bias)
    assert torch.equal(basic(x), torch.relu(x))  # residual branch silenced: only the identity shortcut is left
    bottle = Bottleneck(8, 4, norm="none")  # 8 -> 16 channels: a 1x1 projection shortcut
    assert bottle.conv3.out_channels == 16 and bottle.downsample[0].kernel_size == (1, 1)
    nn.init.zeros_(bottle.conv3.weight), nn.init.zeros_(bottle.conv3.bias)
    assert torch.allclose(bottle(x), torch.relu(bottle.downsample(x)))
    assert isinstance(Bottleneck(16, 4).downsample, nn.Identity)


def test_high_resolution_module_fuses_every_branch_into_every_resolution():
    torch.manual_seed(0)
    hrm = HighResolutionModule([4, 8, 16, 32], blocks=1)
    xs = [torch.randn(1, 4 * 2**b, 32 // 2**b, 32 // 2**b) for b in range(4)]
    assert [y.shape for y in hrm(xs)] == [x.shape for x in xs]
    up = hrm.fuse_layers[0][3]  # 1/32 -> 1/4: 1x1 conv, norm, nearest x8
    assert up[0].kernel_size == (1, 1) and up[2].scale_factor == 8 and up[2].mode == "nearest"
    down = hrm.fuse_layers[3][0]  # 1/4 -> 1/32: three strided 3x3 convs, 4 -> 4 -> 4 -> 32 channels
    assert [(s[0].stride, s[0].in_channels, s[0].out_channels) for s in down] == [((2, 2), 4, 4)] * 2 + [
        ((2, 2), 4, 32)
    ]
    assert isinstance(down[0][2], nn.ReLU) and len(down[2]) == 2  # no activation before the sum
    # The fused output depends on every branch: perturbing the lowest resolution changes the highest.
    ys = hrm([x.clone() for x in xs])
    xs[3] = xs[3] + 1
    assert not torch.allclose(hrm(xs)[0], ys[0])
    last = HighResolutionModule([4, 8, 16, 32], blocks=1, multi_scale_output=False)
    assert len(last(xs)) == 1 and len(last.fuse_layers) == 1


def test_blocks_and_modules_per_stage_are_arguments():
    model = HRNet(width=8, blocks=(3, 2, 1, 2), modules=(2, 1, 3), stem_width=16)
    assert len(model.layer1) == 3 and model.layer1[0].conv3.out_channels == 64
    assert [len(s) for s in (model.stage2, model.stage3, model.stage4)] == [2, 1, 3]
    assert [len(b) for b in model.stage2[0].branches] == [2, 2]
    assert [len(b) for b in model.stage4[0].branches] == [2, 2, 2, 2]
    assert [b[0].conv1.in_channels for b in model.stage4[0].branches] == [8, 16, 32, 64]
    with pytest.raises(ValueError, match="blocks needs 4"):
        HRNet(blocks=(4, 4, 4))


# ----------------------------------------------------------------------------------------------------------
# Ablation switches


def test_norm_none_has_no_batchnorm_anywhere_and_biased_convolutions():
    model = hrnet_narrow(**TINY, norm="none")
    assert not any(isinstance(m, nn.modules.batchnorm._NormBase) for m in model.modules())
    assert not any(k.endswith(BN_BUFFERS) for k in model.state_dict())
    assert all(m.bias is not None for m in model.modules() if isinstance(m, nn.Conv2d))
    batch = hrnet_narrow(**TINY)
    convs = [m for m in batch.modules() if isinstance(m, nn.Conv2d)]
    n_bn = sum(isinstance(m, nn.BatchNorm2d) for m in batch.modules())
    assert n_bn == len(convs) - 1  # every convolution but the head is normalised ...
    assert [m for m in convs if m.bias is not None] == [batch.final_layer]  # ... and bias-free, as official


def test_act_identity_has_no_relu_anywhere():
    relu = hrnet_narrow(**TINY, norm="none")
    ident = hrnet_narrow(**TINY, norm="none", act="identity")
    assert sum(isinstance(m, nn.ReLU) for m in relu.modules()) > 0
    assert not any(isinstance(m, (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.GELU)) for m in ident.modules())
    # Same parameters in both: the switch only swaps parameter-free modules.
    assert {k: v.shape for k, v in relu.state_dict().items()} == {k: v.shape for k, v in ident.state_dict().items()}


def test_without_norm_and_activation_the_network_is_affine():
    torch.manual_seed(0)
    x1, x2 = torch.randn(2, 1, 3, 64, 64).double()
    zero = torch.zeros_like(x1)
    for act, affine in (("identity", True), ("relu", False)):
        torch.manual_seed(1)
        f = hrnet_narrow(**TINY, norm="none", act=act, init="kaiming").double().eval()
        with torch.no_grad():
            lhs, rhs = f(x1 + x2), f(x1) + f(x2) - f(zero)
        assert torch.allclose(lhs, rhs, rtol=1e-8, atol=1e-10) == affine


def test_invalid_switch_values_are_rejected():
    with pytest.raises(ValueError, match="norm must be"):
        hrnet_narrow(**TINY, norm="group")
    with pytest.raises(ValueError, match="act must be"):
        hrnet_narrow(**TINY, act="gelu")
    with pytest.raises(ValueError, match="init must be"):
        hrnet_narrow(**TINY, init="xavier")


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_forward_backward_for_every_variant(variant):
    torch.manual_seed(0)
    model = hrnet_narrow(**TINY, **VARIANTS[variant], init="kaiming").train()
    x, target = torch.randn(2, 3, 64, 64), torch.rand(2, 16, 16, 16)
    before = model.conv1.weight.detach().clone()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss = nn.functional.mse_loss(model(x), target)
    loss.backward()
    grads = {n: p.grad for n, p in model.named_parameters()}
    assert all(g is not None and torch.isfinite(g).all() for g in grads.values()), "every parameter is used"
    assert grads["conv1.weight"].abs().sum() > 0
    opt.step()
    assert not torch.equal(model.conv1.weight, before)
    assert nn.functional.mse_loss(model(x), target) < loss


def test_official_init_and_kaiming_init():
    official = hrnet_narrow(**TINY)
    convs = [m for m in official.modules() if isinstance(m, nn.Conv2d)]
    assert all(abs(m.weight.std().item() - 0.001) < 3e-4 for m in convs if m.weight.numel() >= 1000)
    bns = [m for m in official.modules() if isinstance(m, nn.BatchNorm2d)]
    assert all(torch.all(m.weight == 1) and torch.all(m.bias == 0) for m in bns)
    kaiming = hrnet_narrow(**TINY, norm="none", init="kaiming")
    c = kaiming.stage2[0].branches[0][0].conv1  # 8 -> 8 channels, 3x3: fan-in 72, ReLU gain sqrt(2)
    assert abs(c.weight.std().item() - math.sqrt(2 / 72)) < 0.03
    assert abs(kaiming.final_layer.weight.std().item() - 0.001) < 5e-4
    # Why "kaiming" exists: without BatchNorm, the official N(0, 0.001^2) leaves almost nothing of the input.
    torch.manual_seed(0)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        tiny = hrnet_narrow(**TINY, norm="none")(x).std()
        sane = kaiming(x).std()
    assert tiny < 1e-6 < 1e-3 < sane < 10


def test_fixed_seed_gives_deterministic_outputs():
    def run(seed: int) -> torch.Tensor:
        torch.manual_seed(seed)
        model = hrnet_narrow(**TINY, init="kaiming").eval()
        with torch.no_grad():
            return model(torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(5)))

    a, b, c = run(0), run(0), run(1)
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)
