"""Unsupervised 3D lifting (notebook 07): data, geometry, models, losses, metrics, training."""

import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.spatial import procrustes
from scipy.spatial.transform import Rotation

from poselab.data.fixtures import write_h36m
from poselab.data.joints import H36M17, H36M32_TO_17
from poselab.data.pose_files import convert_pickled
from poselab.data.synthetic.camera import intrinsics, lifting_rig, project_points
from poselab.data.synthetic.config import LiftingSetConfig
from poselab.data.synthetic.generate import lifting_sequence, load_lifting_set
from poselab.profiles import PROFILES
from poselab.studies.lifting import data as D
from poselab.studies.lifting import geometry, losses, metrics, tables
from poselab.studies.lifting.models import Decoder, Discriminator, Encoder, layer_table
from poselab.studies.lifting.settings import LiftingConfig
from poselab.studies.lifting.train import load_models, train_both, train_supervised, train_vae_gan
from poselab.training.runs import RunStore

REPO = Path(__file__).resolve().parents[1]
TINY_CFG = LiftingConfig(hidden=32, latent=8, batch_size=32, epochs=2, supervised_epochs=2, beta_warmup=0.5,
                         beta_period=1.0, beta_hold=0.25, eval_every=1.0, hypotheses=3, train_stride=2,
                         test_stride=8)


def random_poses(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 17, 3))


def random_rotations(n: int, seed: int = 0) -> np.ndarray:
    return Rotation.random(n, random_state=seed).as_matrix()


# --------------------------------------------------------------------------- metrics


def test_p_mpjpe_is_zero_for_a_rotated_scaled_translated_copy():
    gt = random_poses(20)
    rot, scale = random_rotations(20), np.random.default_rng(1).uniform(0.2, 5.0, (20, 1, 1))
    pred = scale * np.einsum("nij,nkj->nki", rot, gt) + np.random.default_rng(2).normal(size=(20, 1, 3))
    assert metrics.p_mpjpe(pred, gt).max() < 1e-9
    assert metrics.mpjpe(pred, gt).mean() > 0.1  # without alignment the copy is far off


def _scipy_aligned(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Least-squares similarity alignment with SciPy's proper-rotation solver (Kabsch)."""
    p, g = pred - pred.mean(0), gt - gt.mean(0)
    rot, _ = Rotation.align_vectors(g, p)
    rp = rot.apply(p)
    return (g * rp).sum() / (p**2).sum() * rp + gt.mean(0)


def test_p_mpjpe_matches_scipy_on_random_poses():
    gt, pred = random_poses(50, 3), random_poses(50, 4)
    ours = metrics.p_mpjpe(pred, gt)
    theirs = np.stack([metrics.mpjpe(_scipy_aligned(p, g), g) for p, g in zip(pred, gt, strict=True)])
    np.testing.assert_allclose(ours, theirs, atol=1e-8)
    # scipy.spatial.procrustes (which standardises both sets) agrees on noisy copies, where the
    # best orthogonal map is a rotation.
    noisy = 0.7 * np.einsum("nij,nkj->nki", random_rotations(50, 5), gt) + 0.1 * random_poses(50, 6)
    for p, g, e in zip(noisy, gt, metrics.p_mpjpe(noisy, gt), strict=True):
        m1, m2, _ = procrustes(g, p)
        norm = np.linalg.norm(g - g.mean(0))
        np.testing.assert_allclose(e, np.linalg.norm((m2 - m1) * norm, axis=-1), atol=1e-8)


def test_alignment_never_reflects():
    gt = random_poses(10, 7)
    mirrored = gt * np.array([-1.0, 1.0, 1.0])  # a reflection is not a similarity with a rotation
    assert metrics.p_mpjpe(mirrored, gt).mean() > 0.1


def test_metric_scale_turns_normalised_ground_truth_back_into_millimetres(lifting_sets):
    _, test = lifting_sets
    back = metrics.metric_scale(D.with_root(test.targets), test.gt_mm)
    np.testing.assert_allclose(back, test.gt_mm, atol=1e-2)
    assert metrics.mpjpe(back, test.gt_mm).max() < 0.05


def test_best_hypothesis_samples_collapse_to_the_mean_at_zero_scale():
    mu, logvar = np.random.default_rng(0).normal(size=(2, 5, 4)).astype(np.float32)
    z = metrics.sample_hypotheses(mu, logvar, 3, seed=1, scale=0.0)
    assert z.shape == (3, 5, 4)
    np.testing.assert_allclose(z, np.broadcast_to(mu, z.shape))
    z = metrics.sample_hypotheses(mu, logvar, 3, seed=1)
    assert np.abs(z[0] - z[1]).max() > 0.01
    np.testing.assert_allclose(z, metrics.sample_hypotheses(mu, logvar, 3, seed=1))


def test_action_separability_tells_clusters_from_noise():
    rng = np.random.default_rng(0)
    actions = np.repeat(np.array(list("abcd")), 50)
    groups = np.repeat(np.arange(20), 10)  # five sequences per action
    centres = {a: rng.normal(0, 20, 6) for a in "abcd"}
    clustered = np.stack([centres[a] for a in actions]) + rng.normal(size=(200, 6))
    sep = metrics.action_separability(clustered, actions, groups)
    assert sep["silhouette"] > 0.8 and sep["knn_accuracy"] == 1.0 and sep["chance"] == 0.25
    assert abs(sep["same_group"] - 9 / 49) < 0.08  # neighbours spread at random over the action's 50 poses
    tight = clustered + np.repeat(rng.normal(0, 5, (20, 6)), 10, axis=0)  # each sequence its own sub-cluster
    assert metrics.action_separability(tight, actions, groups)["same_group"] > 0.9
    noise = metrics.action_separability(rng.normal(size=(200, 6)), actions, groups)
    assert abs(noise["silhouette"]) < 0.1 and noise["knn_accuracy"] < 0.45
    # a test set of two sequences (check-full's Human3.6M fixture): two folds, one per sequence; one sequence: none
    two = np.repeat(np.arange(2), 100)
    held_out = metrics.action_separability(clustered, np.repeat(np.array(list("ab")), 100), two)
    assert held_out["knn_accuracy"] == 0.0  # each fold's action is absent from its training fold
    assert np.isnan(metrics.action_separability(clustered, actions, np.zeros(200))["knn_accuracy"])


# --------------------------------------------------------------------------- geometry


def test_projection_of_a_point_on_the_optical_axis_lands_at_the_principal_point():
    on_axis = torch.tensor([[0.0, 0.0, 7.5]], dtype=torch.float64)
    assert torch.equal(geometry.perspective(on_axis, 10.0), torch.zeros(1, 2, dtype=torch.float64))
    # The same pinhole as the cameras': shifted by the principal point of K.
    K = intrinsics(10.0, 3.0, -2.0)
    pts = torch.tensor([[0.0, 0.0, 4.0], [0.3, -0.2, 9.0]], dtype=torch.float64)
    np.testing.assert_allclose(geometry.perspective(pts, 10.0).numpy() + [3.0, -2.0], project_points(pts.numpy(), K))
    # The root of a predicted pose sits on the optical axis: it projects to the origin.
    pose = torch.zeros(1, 16, 3)
    pose[0, 3] = torch.tensor([0.5, -0.5, 0.0])
    y = geometry.reproject(pose, depth=10.0, scale=1.3)
    assert torch.equal(y[0, 0], torch.zeros(2))
    np.testing.assert_allclose(y[0, 3].numpy(), [0.65, -0.65], rtol=1e-6)  # 1.3 * 0.5 at depth 10, focal 10


def test_novel_view_rotations_preserve_bone_lengths_and_cover_the_sampled_ranges():
    g = torch.Generator().manual_seed(0)
    az, el = geometry.sample_view_angles(4000, 20.0, g)
    assert az.min() >= -np.pi and az.max() <= np.pi and az.min() < -3.0 and az.max() > 3.0
    assert el.abs().max() <= np.pi / 9 + 1e-7 and el.abs().max() > 0.3
    rot = geometry.rotation_matrices(az, el)
    np.testing.assert_allclose(rot @ rot.transpose(1, 2), np.broadcast_to(np.eye(3), rot.shape), atol=1e-6)
    np.testing.assert_allclose(torch.linalg.det(rot), 1.0, atol=1e-6)
    pose = torch.as_tensor(random_poses(4000, 1), dtype=torch.float32)
    turned = pose @ rot.transpose(1, 2)
    limbs = H36M17.limb_index
    bones = lambda p: (p[:, limbs[:, 0]] - p[:, limbs[:, 1]]).norm(dim=-1)  # noqa: E731
    np.testing.assert_allclose(bones(turned), bones(pose), rtol=1e-5, atol=1e-5)
    # Azimuth alone turns about the vertical axis: heights are unchanged.
    flat = geometry.rotation_matrices(az, torch.zeros_like(el))
    np.testing.assert_allclose((pose @ flat.transpose(1, 2))[..., 1], pose[..., 1], atol=1e-5)


def test_normalize_2d_gives_unit_root_head_length():
    x = torch.randn(8, 16, 2) * 50
    n = geometry.normalize_2d(x, D.HEAD16)
    np.testing.assert_allclose(n[:, D.HEAD16].norm(dim=-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose((n / n[:, :1]).numpy(), (x / x[:, :1]).numpy(), rtol=1e-4)  # only a scale


def test_flipping_the_2d_input_equals_projecting_the_mirrored_3d_pose():
    pose = torch.as_tensor(random_poses(6, 2)[:, D.NON_ROOT] * 0.3, dtype=torch.float32)
    mask = torch.tensor([True, False, True, True, False, False])
    flipped2d = D.flip_poses(geometry.reproject(pose), mask)
    np.testing.assert_allclose(flipped2d, geometry.reproject(D.flip_poses(pose, mask)), atol=1e-6)
    np.testing.assert_allclose(D.flip_poses(flipped2d, mask), geometry.reproject(pose), atol=1e-6)
    # A mirror swaps the sides: the left wrist's new position is the right wrist's, mirrored.
    lw, rw = (int(np.where(D.NON_ROOT == H36M17.index(n))[0][0]) for n in ("l_wrist", "r_wrist"))
    x = torch.randn(1, 16, 2)
    f = D.flip_poses(x, torch.tensor([True]))
    np.testing.assert_allclose(f[0, lw], x[0, rw] * torch.tensor([-1.0, 1.0]))


# --------------------------------------------------------------------------- models


def test_parameter_counts_equal_the_thesis_appendix_a():
    models = {"encoder": Encoder(h=1024, d=51), "decoder": Decoder(h=1024, d=51),
              "discriminator": Discriminator(h=1024, n_blocks=2)}
    table = tables.parameter_table(models)
    assert table["equal"].all(), table[~table["equal"]]
    totals = table[table["block"] == "total"].set_index("model")["parameters"]
    assert totals.to_dict() == {"encoder": 2_241_638, "decoder": 2_205_744, "discriminator": 4_233_217}
    for name, model in models.items():  # the same layer types, in the same order, as Appendix A
        ours = [layer.split("(")[0] for _, layer, _ in layer_table(model)]
        assert ours == [layer.split("(")[0] for layer, _ in tables.THESIS_APPENDIX_A[name]]
        assert sum(p.numel() for p in model.parameters()) == totals[name]


def test_model_shapes_ranges_and_switches():
    enc, dec, disc = Encoder(h=64, d=8, n_blocks=2), Decoder(h=64, d=8, n_blocks=3), Discriminator(h=64, n_blocks=1)
    x = torch.randn(5, 32)
    mu, logvar = enc(x)
    assert mu.shape == logvar.shape == (5, 8)
    y = dec(mu)
    assert y.shape == (5, 48) and y.abs().max() <= 1
    p = disc(x)
    assert p.shape == (5, 1) and ((p > 0) & (p < 1)).all()
    assert sum(1 for _ in enc.blocks) == 2 and sum(1 for _ in dec.blocks) == 3
    assert all(m.bias is None for m in enc.blocks.modules() if isinstance(m, torch.nn.Linear))
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in disc.modules())


# --------------------------------------------------------------------------- losses


def test_kl_divergence_is_zero_at_the_prior_and_matches_torch_distributions():
    zeros = torch.zeros(4, 51)
    assert losses.kl_divergence(zeros, zeros).item() == 0.0
    mu, logvar = torch.randn(4, 51), torch.randn(4, 51)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    expected = torch.distributions.kl_divergence(q, p).mean()
    np.testing.assert_allclose(losses.kl_divergence(mu, logvar).item(), expected.item(), rtol=1e-5)
    assert losses.kl_divergence(mu, logvar) > 0


def test_cyclic_beta_has_the_stated_shape():
    w, period, hold = 10.0, 40.0, 10.0
    beta = lambda e: losses.cyclic_beta(e, w, period, hold)  # noqa: E731
    assert beta(0.0) == 0.0 and beta(5.0) == pytest.approx(0.5) and beta(9.99) == pytest.approx(0.999)
    assert beta(10.0) == 0.0  # the first cycle starts from 0
    assert beta(25.0) == pytest.approx(0.5) and beta(40.0) == pytest.approx(1.0)  # 30 epochs of ramp
    assert beta(40.0) == beta(45.0) == beta(49.99) == 1.0  # held for the last 10 epochs
    assert beta(50.0) == 0.0 and beta(65.0) == pytest.approx(0.5)  # the next cycle
    e = np.linspace(0, 400, 40001)
    b = beta(e)
    assert b.min() == 0.0 and b.max() == 1.0
    assert (np.isclose(np.diff(b), 0, atol=1e-9) | (np.diff(b) > 0) | (b[1:] == 0)).all()  # rises, holds, restarts
    assert np.sum(np.diff(b) < -0.5) == 10  # drops to 0 at epochs 10 (end of warm-up), 50, 90, ..., 370


def test_bce_matches_torch_and_accepts_smoothed_labels_above_one():
    p, t = torch.rand(64, 1) * 0.98 + 0.01, torch.rand(64, 1)
    np.testing.assert_allclose(losses.bce(p, t).item(), torch.nn.functional.binary_cross_entropy(p, t).item(),
                               rtol=1e-5)
    labels = losses.smoothed_real_labels(10000, 0.7, 1.2, torch.Generator().manual_seed(0))
    assert labels.shape == (10000, 1) and labels.min() >= 0.7 and labels.max() <= 1.2 and labels.max() > 1.15
    assert torch.isfinite(losses.bce(p[:1], labels[:1]))


# --------------------------------------------------------------------------- data


def test_videopose3d_loader_reads_fixture_files(tmp_path):
    truth, cams = write_h36m(tmp_path / "h36m")
    pos3d, pos2d = D.load_videopose3d(tmp_path / "h36m")
    assert sorted(pos3d) == ["S1", "S11", "S9"] and sorted(pos3d["S1"]) == ["Sitting 1", "Walking 1"]
    for (subject, take), world17 in truth.items():
        np.testing.assert_allclose(pos3d[subject][take], world17, atol=1e-5)  # 32 -> 17 joints
        assert len(pos2d[subject][take]) == 4
        assert all(v.shape == world17.shape[:1] + (17, 2) for v in pos2d[subject][take])  # cut to the 3D length
    fitted = D.fit_cameras(pos3d, pos2d)
    for got, want in zip(fitted["S1"], cams, strict=True):
        np.testing.assert_allclose(got.K, want.K, atol=0.1)
        np.testing.assert_allclose(got.R, want.R, atol=1e-4)
        np.testing.assert_allclose(got.t, want.t, atol=1e-3)


def test_the_full_profile_uses_human36m_when_present(tmp_path):
    write_h36m(tmp_path / "h36m")
    profile = replace(PROFILES["full"], lifting=replace(PROFILES["full"].lifting, use_real=True))
    assert D.h36m_available(tmp_path)
    source = D.load_source(tmp_path, profile.name, profile.data.lifting, profile.lifting.use_real)
    assert source.name == "h36m"
    train, test = D.protocol1_splits(source, 5, 64)
    assert set(train.subject) == {"S1"} and set(test.subject) == {"S9", "S11"}
    assert len(test) == 2 * 4 * 1  # 30 frames each, every 64th frame: frame 0, four cameras
    assert not D.h36m_available(tmp_path / "elsewhere")


# The published calibration of camera 54138969 and S9's first camera, written out here as the data set
# documents it (orientation: camera-to-world quaternion w, x, y, z; translation: camera centre in mm).
S9_CAMERA_0 = {"f": (1145.0494384765625, 1143.7811279296875), "c": (512.54150390625, 515.4514770507812),
               "k": (-0.20709891617298126, 0.24777518212795258, -0.0030751503072679043),
               "p": (-0.0009756988729350269, -0.00142447161488235),
               "q": (0.15540587902069092, -0.15548215806484222, -0.7532095313072205, 0.6199594736099243),
               "T": (2044.45849609375, 4935.1171875, 1481.2275390625)}


def _h36m_projection(world_m: np.ndarray, cam: dict) -> np.ndarray:
    """Human3.6M's projection written independently: scipy's rotation, the distortion term by term."""
    w, x, y, z = cam["q"]
    rot = Rotation.from_quat([x, y, z, w]).as_matrix()  # scipy takes (x, y, z, w)
    xc = (world_m * 1000 - np.array(cam["T"])) @ rot  # rot^T (X - T), row vectors
    u, v = xc[..., 0] / xc[..., 2], xc[..., 1] / xc[..., 2]
    r2 = u * u + v * v
    k1, k2, k3 = cam["k"]
    p1, p2 = cam["p"]
    radial = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3
    ud = u * (radial + p1 * u + p2 * v) + p1 * r2
    vd = v * (radial + p1 * u + p2 * v) + p2 * r2
    return np.stack([cam["f"][0] * ud + cam["c"][0], cam["f"][1] * vd + cam["c"][1]], -1)


def test_human36m_uses_its_published_distorted_cameras(tmp_path):
    """A fixture in the VideoPose3D layout whose 2D is Human3.6M's projection of its 3D (S9, camera 0):
    the loader's cameras reproject the 3D onto that 2D within 0.5 px; an ideal pinhole does not."""
    folder = tmp_path / "h36m"
    folder.mkdir()
    cfg = LiftingSetConfig(seconds=0.6, takes=1, seed=5)
    world17 = H36M17.from_internal(lifting_sequence("S9", "walking", 0, cfg))
    # place the person in Human3.6M's capture volume (metres, z up; the cameras are ~5 m away)
    world17 = world17[..., [0, 2, 1]] + [0.2, 0.3, 0.0]
    world32 = np.zeros((len(world17), 32, 3))
    world32[:, list(H36M32_TO_17)] = world17
    views = [_h36m_projection(world17, S9_CAMERA_0)] + [np.zeros((len(world17), 17, 2))] * 3
    pos3d, pos2d = {"S9": {"Walking 1": world32}}, {"S9": {"Walking 1": views}}
    np.savez_compressed(folder / "data_3d_h36m.npz", positions_3d=np.array(pos3d, dtype=object))
    np.savez_compressed(folder / "data_2d_h36m_gt.npz", positions_2d=np.array(pos2d, dtype=object),
                        metadata=np.array({"num_joints": 17}, dtype=object))
    convert_pickled(folder / "data_3d_h36m.npz", folder / "data_2d_h36m_gt.npz")
    source = D.h36m_source(tmp_path)
    cam = source.cameras["S9"][0]
    assert (cam.width, cam.height) == (1000, 1002) and len(source.cameras["S9"]) == 4
    got = cam.project(source.positions_3d["S9"]["Walking 1"])
    err = np.linalg.norm(got - source.positions_2d["S9"]["Walking 1"][0], axis=-1)
    assert err.max() < 0.5
    pinhole = project_points(cam.to_camera(world17), cam.K)
    assert np.linalg.norm(pinhole - views[0], axis=-1).max() > 2.0  # the lens distortion matters
    np.testing.assert_allclose(cam.center, np.array(S9_CAMERA_0["T"]) / 1000, atol=1e-9)


def test_fit_camera_takes_a_thin_svd_of_many_points():
    world = np.random.default_rng(1).uniform(-1, 1, (20000, 3)) + [0, 0.9, 0]
    cam = lifting_rig()[0]
    got = D.fit_camera(world, cam.project(world))  # a full SVD of the 40000 x 12 system would need 12.8 GB
    np.testing.assert_allclose(got.R, cam.R, atol=1e-9)


def test_fit_camera_recovers_the_lifting_rig():
    world = np.random.default_rng(0).uniform(-1, 1, (300, 3)) + [0, 0.9, 0]
    for cam in lifting_rig():
        got = D.fit_camera(world, cam.project(world))
        np.testing.assert_allclose(got.K, cam.K, atol=1e-6)
        np.testing.assert_allclose(got.R, cam.R, atol=1e-9)
        np.testing.assert_allclose(got.t, cam.t, atol=1e-9)


@pytest.fixture(scope="session")
def lifting_sets(tiny_sets):
    pos3d, pos2d, cams = load_lifting_set(tiny_sets["lifting"])
    source = D.LiftingSource("synthetic", pos3d, pos2d, {s: cams for s in pos3d})
    return D.protocol1_splits(source, TINY_CFG.train_stride, TINY_CFG.test_stride)


def test_protocol1_splits_by_subject_and_stride(lifting_sets, tiny_sets):
    train, test = lifting_sets
    meta = json.loads((tiny_sets["lifting"] / "meta.json").read_text())
    frames, n_takes = 50, len(meta["takes"])  # one second at 50 fps per take
    assert set(train.subject) == set(D.TRAIN_SUBJECTS) and set(test.subject) == set(D.TEST_SUBJECTS)
    assert len(train) == 5 * n_takes * 4 * len(range(0, frames, 2))
    assert len(test) == 2 * n_takes * 4 * len(range(0, frames, 8))
    assert set(np.unique(train.frame) % 2) == {0} and set(train.camera) == {0, 1, 2, 3}
    assert set(train.action) == {t.split(" ")[0] for t in meta["takes"]}
    np.testing.assert_allclose(np.linalg.norm(train.inputs[:, D.HEAD16], axis=-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(train.targets[:, D.HEAD16], axis=-1), 1.0, rtol=1e-5)
    assert np.abs(train.gt_mm[:, D.ROOT]).max() == 0
    np.testing.assert_allclose(D.normalize_2d(train.pixels), train.inputs, atol=1e-5)


def test_camera_frame_ground_truth_keeps_bone_lengths_and_projects_to_the_input(lifting_sets, tiny_sets):
    train, _ = lifting_sets
    pos3d, _, cams = load_lifting_set(tiny_sets["lifting"])
    i = 123
    world = pos3d[train.subject[i]][train.take[i]][train.frame[i]]
    limbs = H36M17.limb_index
    bones = lambda p: np.linalg.norm(p[limbs[:, 0]] - p[limbs[:, 1]], axis=-1)  # noqa: E731
    np.testing.assert_allclose(bones(train.gt_mm[i]), 1000 * bones(world), rtol=1e-4)
    cam_frame = cams[train.camera[i]].to_camera(world)
    np.testing.assert_allclose(project_points(cam_frame, cams[train.camera[i]].K), train.pixels[i], atol=1e-2)


def test_synthetic_source_lives_where_ensure_synthetic_puts_it(tmp_path):
    from poselab.data.synthetic.generate import ensure_lifting_set

    profile = PROFILES["smoke"]
    source = D.synthetic_source(tmp_path, profile.name, profile.data.lifting)
    folder = ensure_lifting_set(tmp_path / "synthetic" / "smoke" / "lifting", profile.data.lifting)
    assert (folder / "meta.json").exists() and source.name == "synthetic" and len(source.cameras["S1"]) == 4
    assert D.load_source(tmp_path, profile.name, profile.data.lifting, use_real=True).name == "synthetic"  # no h36m


# --------------------------------------------------------------------------- training and evaluation


def test_vae_gan_trains_from_2d_alone_reproducibly_and_writes_log_and_checkpoint(lifting_sets, tmp_path):
    train, test = lifting_sets
    blind = replace(train, targets=np.full_like(train.targets, np.nan), gt_mm=np.full_like(train.gt_mm, np.nan))
    a = train_vae_gan(blind, test, TINY_CFG, tmp_path / "a", progress=False)
    b = train_vae_gan(blind, test, TINY_CFG, tmp_path / "b", progress=False)
    for pa, pb in zip(a.decoder.parameters(), b.decoder.parameters(), strict=True):
        assert torch.equal(pa, pb)
    log = pd.read_csv(tmp_path / "a" / "log.csv")
    assert {"iteration", "epoch", "beta", "recon", "kl", "adv_g", "d_real", "d_fake"} <= set(log.columns)
    assert np.isfinite(log.drop(columns=["iteration"]).to_numpy()).all()
    assert len(a.validation) == 2 and np.isfinite(a.validation["p_mpjpe_zv"]).all()
    assert not (tmp_path / "a" / "last.pt").exists()  # the finished run replaces the last checkpoint
    enc, dec, disc = load_models(tmp_path / "a" / "final.pt")
    assert disc is not None
    for pa, pc in zip(a.encoder.parameters(), enc.parameters(), strict=True):
        assert torch.equal(pa, pc)
    assert not list((tmp_path / "a").glob("*.tmp"))


def test_supervised_baseline_learns_and_evaluation_reports_zv_and_bh(lifting_sets, tmp_path):
    train, test = lifting_sets
    cfg = replace(TINY_CFG, supervised_epochs=6)
    result = train_supervised(train, test, cfg, tmp_path, progress=False)
    curve = result.validation["p_mpjpe_zv"].to_numpy()
    assert curve[-1] < curve[0]
    ev = metrics.evaluate_lifting(result.encoder, result.decoder, test, "supervised", hypotheses=4)
    assert ev.p_mpjpe.shape == ev.mpjpe.shape == ev.bh_p_mpjpe.shape == (len(test), 17)
    assert ev.mu.shape == (len(test), cfg.latent) and (ev.sigma > 0).all()
    np.testing.assert_allclose(ev.p_mpjpe.mean(), curve[-1], rtol=1e-4)  # the same ZV number
    flat = metrics.flat_evaluation(test)
    summary = tables.results_table({"vae-gan": ev, "supervised": ev}, flat)
    assert summary.loc["VAE-GAN ZV (unsupervised)", tables.THESIS_COLUMN] == 52.74
    assert summary.loc["supervised VAE ZV (3D ground truth)", "P-MPJPE (mm), ours"] == pytest.approx(ev.p_mpjpe.mean())
    assert set(tables.per_joint_table({"supervised": ev}).index) == set(D.THESIS_NAMES)
    per_action = tables.per_action_table({"supervised": ev}, test.action)
    assert set(per_action.index) == set(test.action) and list(per_action.columns) == ["supervised BH", "supervised ZV"]


def test_a_finished_run_is_loaded_not_retrained(tmp_path):
    """Same settings, seed, data and code: the second call reads the saved run back (and its logs)."""
    class Pairs(SimpleNamespace):
        def __len__(self):
            return len(self.inputs)

    rng = np.random.default_rng(0)
    n = 64
    ds = Pairs(inputs=rng.normal(size=(n, 16, 2)).astype(np.float32),
               targets=rng.normal(size=(n, 16, 3)).astype(np.float32))
    cfg = LiftingConfig(hidden=16, latent=4, batch_size=16, epochs=1, supervised_epochs=1, cpu_threads=1)
    first = train_supervised(ds, None, cfg, tmp_path, progress=False)
    again = train_supervised(ds, None, cfg, tmp_path, progress=False)
    assert again.seconds == first.seconds  # not retrained: the saved duration comes back
    assert again.reused and not first.reused
    for a, b in zip(first.encoder.state_dict().values(), again.encoder.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    pd.testing.assert_frame_equal(first.log.reset_index(drop=True), again.log, check_dtype=False)
    ds.inputs = ds.inputs + 1.0  # other data: trained anew
    retrained = train_supervised(ds, None, cfg, tmp_path, progress=False)
    assert retrained.seconds != first.seconds and not retrained.reused


def test_both_lifting_models_train_side_by_side_to_the_same_weights(lifting_sets, tmp_path):
    train, test = lifting_sets
    cfg = replace(TINY_CFG, epochs=1, supervised_epochs=1)
    parallel = train_both(train, test, cfg, RunStore(tmp_path / "a"), workers=2)
    serial = train_both(train, test, cfg, RunStore(tmp_path / "b"), workers=1)
    # trained in this call (by the workers, then loaded here): not "reused"; a second call finds both finished
    assert not any(r.reused for r in parallel) and not any(r.reused for r in serial)
    assert all(r.reused for r in train_both(train, test, cfg, RunStore(tmp_path / "a"), workers=2))
    assert {p.parent.name.rsplit("-", 1)[0] for p in (tmp_path / "a").glob("*/final.pt")} == {"vae-gan",
                                                                                              "supervised-vae"}
    # evaluation-only settings leave the key (and so the trained models) as they are
    assert all(r.reused for r in train_both(train, test, replace(cfg, hypotheses=3), RunStore(tmp_path / "a")))
    for p, s in zip(parallel, serial, strict=True):
        for a, b in zip(p.decoder.state_dict().values(), s.decoder.state_dict().values(), strict=True):
            assert torch.equal(a, b)


def test_the_step_limit_stops_the_lifting_trainers(lifting_sets, tmp_path, monkeypatch):
    from poselab.training.config import LIMIT_ENV

    train, test = lifting_sets
    monkeypatch.setenv(LIMIT_ENV, "3")
    gan = train_vae_gan(train, None, TINY_CFG, tmp_path / "g", progress=False)
    sup = train_supervised(train, None, TINY_CFG, tmp_path / "s", progress=False)
    assert gan.iterations == sup.iterations == 3
    monkeypatch.delenv(LIMIT_ENV)
    assert train_supervised(train, None, TINY_CFG, tmp_path / "s", progress=False).iterations > 3  # its own key
