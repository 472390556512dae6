import numpy as np
import pytest
import torch

from poselab.data.dataset import ImageSet
from poselab.data.joints import MPII16
from poselab.data.pose_dataset import HeatmapDataset, SyntheticSource
from poselab.data.transforms import Augment
from poselab.evaluation.predict import predict
from poselab.metrics import pck
from poselab.models.hourglass import StackedHourglass
from poselab.training.loop import TrainConfig, heatmap_loss, train


def _model(seed=0):
    torch.manual_seed(seed)
    return StackedHourglass(2, width=8, n_joints=16, depth=2, stem=(4, 8))


AUGMENT = Augment()


def _sets(tiny_sets, augment=AUGMENT):
    src = SyntheticSource(ImageSet(tiny_sets["pose2d"], "train"))
    return HeatmapDataset(src, 32, augment=augment, seed=5), HeatmapDataset(src, 32)


def test_heatmap_loss_is_per_stack_and_masks_unannotated_joints():
    target = torch.zeros(2, 3, 4, 4)
    out = torch.zeros(2, 2, 3, 4, 4)
    out[:, 1, 0] = 1.0  # stack 2 wrong on joint 0 everywhere
    out[:, :, 2] = 5.0  # both stacks wrong on joint 2, which is unannotated
    weight = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0]])
    loss = heatmap_loss(out, target, weight)
    # stack 2: joint 0 contributes 1 on 2*16 of the 2*3*16 elements -> 1/3
    assert torch.allclose(loss, torch.tensor([0.0, 1 / 3]))


def test_flip_augmentation_swaps_left_and_right_joints(tiny_sets):
    src = SyntheticSource(ImageSet(tiny_sets["pose2d"], "train"))
    plain = HeatmapDataset(src, 48)
    flipped = HeatmapDataset(src, 48, augment=Augment(rotation=0.0, scale=(1.0, 1.0), flip=1.0))
    a, b = plain[3], flipped[3]
    lw, rw = MPII16.index("l_wrist"), MPII16.index("r_wrist")
    # The left wrist of the mirrored sample is the mirror image of the original right wrist.
    assert torch.allclose(b["joints"][lw], torch.tensor([47.0 - a["joints"][rw][0], a["joints"][rw][1]]), atol=1e-4)
    assert torch.allclose(b["image"], a["image"].flip(-1), atol=1e-5)
    assert torch.equal(b["weight"][lw], a["weight"][rw])
    assert torch.allclose(b["heatmaps"][lw], a["heatmaps"][rw].flip(-1), atol=1e-5)


def test_augmentation_is_a_function_of_seed_epoch_and_index(tiny_sets):
    ds, _ = _sets(tiny_sets)
    first = ds[2]["image"]
    assert torch.equal(first, ds[2]["image"])
    ds.set_epoch(1)
    assert not torch.equal(first, ds[2]["image"])


def test_interrupted_and_resumed_training_gives_the_same_weights(tiny_sets, tmp_path):
    train_set, _ = _sets(tiny_sets)
    cfg = TrainConfig(epochs=2, batch_size=8, lr=1e-3)
    straight = _model()
    train(straight, train_set, cfg, tmp_path / "a", progress=False)
    resumed = _model()
    first = train(resumed, train_set, cfg, tmp_path / "b", progress=False, stop_after=1)
    assert len(first.history) == 1 and first.status == "running"
    again = _model(seed=99)  # a fresh process: weights come from the checkpoint
    result = train(again, train_set, cfg, tmp_path / "b", progress=False)
    assert result.status == "finished" and list(result.history["epoch"]) == [1, 2]
    for k, v in straight.state_dict().items():
        assert torch.equal(v, again.state_dict()[k]), k


def test_validation_leaves_batchnorm_statistics_unchanged(tiny_sets):
    _, val_set = _sets(tiny_sets)
    model = _model().train()
    before = {k: v.clone() for k, v in model.state_dict().items() if "running" in k or "num_batches" in k}
    preds = predict(model, val_set, batch_size=8)
    after = model.state_dict()
    assert all(torch.equal(v, after[k]) for k, v in before.items())
    assert model.training  # the mode is restored
    assert preds.joints.shape == (24, 16, 2)


def test_training_improves_pckh_on_its_own_data(tiny_sets, tmp_path):
    train_set, val_set = _sets(tiny_sets, augment=None)
    src = val_set.source

    def accuracy(model):
        p = predict(model, val_set).joints
        error = np.linalg.norm(p - src.joints(), axis=-1)[src.annotated()].mean()
        return error, pck(p, src.joints(), src.annotated(), src.norm_sizes()["head"], 1.0)[1]

    model = _model()
    error_before, pck_before = accuracy(model)
    result = train(model, train_set, TrainConfig(epochs=30, batch_size=8, lr=5e-3), tmp_path, progress=False)
    error_after, pck_after = accuracy(model)
    assert result.history["loss"].iloc[-1] < 0.5 * result.history["loss"].iloc[0]
    assert error_after < 0.5 * error_before and pck_after > pck_before + 0.3


def test_a_diverging_run_is_recorded_with_its_epoch(tiny_sets, tmp_path):
    train_set, _ = _sets(tiny_sets)
    model = _model()
    with torch.no_grad():
        model.outs[1].conv.bias.fill_(float("nan"))
    result = train(model, train_set, TrainConfig(epochs=3, batch_size=8), tmp_path, progress=False)
    assert result.status == "diverged" and result.diverged_epoch == 1
    assert list(result.history["status"]) == ["diverged"]


def test_a_checkpoint_of_another_run_is_refused(tiny_sets, tmp_path):
    train_set, _ = _sets(tiny_sets)
    train(_model(), train_set, TrainConfig(epochs=1, batch_size=8), tmp_path, progress=False)
    with pytest.raises(ValueError, match="another run"):
        train(_model(), train_set, TrainConfig(epochs=2, batch_size=8, lr=1.0), tmp_path, progress=False)


def test_a_run_records_the_precision_it_used_and_keeps_it_when_reloaded(tiny_sets, tmp_path):
    from poselab.training.loop import train_or_load

    train_set, _ = _sets(tiny_sets)
    torch.set_num_threads(1)
    try:
        cpu = train_or_load(_model(), train_set, TrainConfig(epochs=1, batch_size=8, channels_last=True, bf16=True),
                            tmp_path / "a", "k", progress=False)
    finally:
        torch.set_num_threads(2)
    # bf16 asked for, but float32 on every CPU
    assert (cpu.precision, cpu.threads, cpu.device) == ("float32, channels_last", 1, "cpu")
    again = train_or_load(_model(), train_set, TrainConfig(epochs=1, batch_size=8, channels_last=True, bf16=True),
                          tmp_path / "a", "k")
    assert again.summary() == cpu.summary()
    plain = train(_model(), train_set, TrainConfig(epochs=1, batch_size=8, channels_last=False), tmp_path / "b",
                  progress=False)
    assert plain.precision == "float32"


def test_batched_and_per_sample_pipelines_train_the_same_model(tiny_sets, tmp_path):
    train_set, _ = _sets(tiny_sets)
    models = {}
    for batched in (True, False):
        models[batched] = _model()
        train(models[batched], train_set, TrainConfig(epochs=2, batch_size=8, batched=batched), tmp_path / str(batched),
              progress=False)
    for a, b in zip(models[True].state_dict().values(), models[False].state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


def test_the_step_limit_stops_every_2d_trainer_and_keys_the_run_apart(tiny_sets, tmp_path, monkeypatch):
    from poselab.training.config import LIMIT_ENV, step_limit, with_step_limit

    train_set, _ = _sets(tiny_sets)
    result = train(_model(), train_set, TrainConfig(epochs=5, batch_size=8, max_steps=4), tmp_path / "a",
                   progress=False)
    assert result.status == "finished" and list(result.history["steps"]) == [3, 4]  # 3 batches per epoch
    again = train(_model(), train_set, TrainConfig(epochs=5, batch_size=8, max_steps=4), tmp_path / "a",
                  progress=False)
    assert len(again.history) == 2  # a finished limited run is not continued
    monkeypatch.setenv(LIMIT_ENV, "7")
    assert step_limit() == 7 and with_step_limit(TrainConfig()).max_steps == 7
    monkeypatch.setenv(LIMIT_ENV, "many")
    with pytest.raises(ValueError, match="positive whole number"):
        step_limit()
    monkeypatch.delenv(LIMIT_ENV)
    assert with_step_limit(TrainConfig()) == TrainConfig()


@pytest.mark.parametrize("optimizer", ["rmsprop", "adam"])
def test_the_multi_tensor_optimiser_gives_the_per_tensor_loops_weights(optimizer):
    from poselab.training.loop import make_optimizer

    def trained(foreach: bool) -> torch.Tensor:
        torch.manual_seed(0)
        model = StackedHourglass(n_stacks=1, width=8, n_joints=16, depth=1, stem=(8, 8))
        opt = make_optimizer(model, TrainConfig(optimizer=optimizer, lr=1e-3))
        assert all(g["foreach"] for g in opt.param_groups)
        if not foreach:  # the loop over tensors that torch runs on the CPU unless told otherwise
            for g in opt.param_groups:
                g["foreach"] = False
        gen = torch.Generator().manual_seed(1)
        x, y = torch.randn(4, 3, 32, 32, generator=gen), torch.rand(4, 16, 8, 8, generator=gen)
        for _ in range(3):
            opt.zero_grad()
            heatmap_loss(model(x), y, torch.ones(4, 16)).sum().backward()
            opt.step()
        return torch.cat([p.detach().flatten() for p in model.parameters()])

    assert torch.equal(trained(True), trained(False))
