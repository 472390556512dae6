"""The official checkpoints are fed as their codebases trained them: the input tensor, the crop and the heatmap cells,
checked against the reference code's own formulas, written out here from the files cited (never from poselab's).

* HRNet and SimpleBaseline (leoxiaobin/deep-high-resolution-net.pytorch at 6f69e46): ``lib/utils/transforms.py:57-89``
  (``get_affine_transform``), ``lib/dataset/JointsDataset.py:126-131`` (colour), ``:167-172`` (``cv2.warpAffine``),
  ``:233-289`` (``generate_target``), ``tools/test.py:106-115`` (``ToTensor`` and ``Normalize``),
  ``lib/dataset/coco.py:214-229`` (``_xywh2cs``), ``lib/dataset/mpii.py:55-71`` (MPII's centre, scale and 1-based
  coordinates).
* The princeton-vl hourglass (princeton-vl/pytorch_stacked_hourglass at ceedc14): ``utils/img.py:9-63``
  (``get_transform``, ``transform``, ``crop``), ``data/MPII/dp.py:9-39, 59-88`` (targets), ``test.py:42``
  (``img / 255``).  Its annotation files hold HRNet's MPII centre and scale after HRNet's own adjustment and before
  its ``- 1``: the first validation person is centre (966, 410.777), scale 5.898 in ``data/MPII/annot/valid.h5`` and
  (966, 340), 4.7185 in the MPII ``valid.json``, 410.777 = 340 + 15 x 4.7185 and 5.898 = 1.25 x 4.7185.

OpenCV computes the bilinear warps in fixed point and rounds an 8-bit image's warp to 8 bits (up to one grey level);
the formulas here, like poselab, compute them exactly.
"""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from conftest import TINY
from poselab.data import coco
from poselab.data.dataset import ImageSet
from poselab.data.feeding import OWN, Feeding, attach
from poselab.data.fixtures import write_coco, write_mpii
from poselab.data.mpii import MPIISource
from poselab.data.pose_dataset import HeatmapDataset
from poselab.data.pretrained import load_checkpoints
from poselab.data.synthetic.config import ImageSetConfig, LiftingSetConfig, SyntheticConfig
from poselab.data.synthetic.generate import ensure_synthetic
from poselab.evaluation.predict import predict
from poselab.models.pretrained import load_pretrained, write_fixture
from poselab.studies.poseig.coco import predict_image_joints

CHECKPOINTS = load_checkpoints()
COCO_CHECKPOINTS = [n for n, ck in CHECKPOINTS.items() if ck.dataset == "coco_keypoints"]
HRNET_MPII = "hrnet_w32_mpii"
HOURGLASS = "hourglass_reference_2"


# --- the reference code's formulas ----------------------------------------------------------------------------------


def hrnet_affine(center, scale, output_size) -> np.ndarray:
    """``get_affine_transform(center, scale, 0, output_size)`` (lib/utils/transforms.py:57-89): three points and their
    images, as cv2.getAffineTransform solves them.  (2, 3), image -> crop."""
    src_w = np.asarray(scale, float)[0] * 200.0
    dst_w, dst_h = output_size
    src, dst = np.zeros((3, 2)), np.zeros((3, 2))
    src[0] = center
    src[1] = np.asarray(center, float) + [0, src_w * -0.5]
    dst[0] = [dst_w * 0.5, dst_h * 0.5]
    dst[1] = dst[0] + [0, dst_w * -0.5]
    for p in (src, dst):  # get_3rd_point
        d = p[0] - p[1]
        p[2] = p[1] + [-d[1], d[0]]
    return np.linalg.solve(np.hstack([src, np.ones((3, 1))]), dst).T


def bilinear(image: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """image (H, W, C) sampled at (xs, ys) pixel positions, bilinear, zero outside (BORDER_CONSTANT)."""
    h, w, c = image.shape
    x0, y0 = np.floor(xs).astype(int), np.floor(ys).astype(int)
    fx, fy = xs - x0, ys - y0

    def at(yy, xx):
        ok = (xx >= 0) & (xx < w) & (yy >= 0) & (yy < h)
        out = np.zeros((*xx.shape, c))
        out[ok] = image[yy[ok], xx[ok]]
        return out

    return (at(y0, x0) * ((1 - fx) * (1 - fy))[..., None] + at(y0, x0 + 1) * (fx * (1 - fy))[..., None]
            + at(y0 + 1, x0) * ((1 - fx) * fy)[..., None] + at(y0 + 1, x0 + 1) * (fx * fy)[..., None])


def warp_affine(image: np.ndarray, trans: np.ndarray, width: int, height: int) -> np.ndarray:
    """cv2.warpAffine(image, trans, (width, height), INTER_LINEAR): dst(x, y) = src(trans^-1 (x, y))."""
    inv = np.linalg.inv(np.vstack([trans, [0, 0, 1]]))
    ys, xs = np.mgrid[0:height, 0:width].astype(float)
    return bilinear(image, inv[0, 0] * xs + inv[0, 1] * ys + inv[0, 2], inv[1, 0] * xs + inv[1, 1] * ys + inv[1, 2])


def hrnet_input(rgb: np.ndarray, center, scale, size_wh, color_rgb: bool) -> np.ndarray:
    """What HRNet's pipeline feeds the network, (3, H, W): cv2.imread (BGR), to RGB when COLOR_RGB, the affine warp,
    ToTensor (/255, HWC -> CHW) and Normalize with the ImageNet mean and standard deviation."""
    bgr = rgb[..., ::-1].astype(float)
    image = bgr[..., ::-1] if color_rgb else bgr
    warped = warp_affine(image, hrnet_affine(center, scale, size_wh), *size_wh)
    t = warped.transpose(2, 0, 1) / 255
    return (t - np.array([0.485, 0.456, 0.406])[:, None, None]) / np.array([0.229, 0.224, 0.225])[:, None, None]


def generate_target(joints: np.ndarray, vis: np.ndarray, image_size=(192, 256), heatmap_size=(48, 64), sigma=2.0):
    """HRNet's training target (lib/dataset/JointsDataset.py:233-289): joints (J, 2) input pixels -> (J, h, w)."""
    target = np.zeros((len(joints), heatmap_size[1], heatmap_size[0]), np.float32)
    tmp = sigma * 3
    stride = np.asarray(image_size) / np.asarray(heatmap_size)
    for j, (x, y) in enumerate(joints):
        mu_x, mu_y = int(x / stride[0] + 0.5), int(y / stride[1] + 0.5)
        ul, br = [int(mu_x - tmp), int(mu_y - tmp)], [int(mu_x + tmp + 1), int(mu_y + tmp + 1)]
        if ul[0] >= heatmap_size[0] or ul[1] >= heatmap_size[1] or br[0] < 0 or br[1] < 0 or vis[j] <= 0:
            continue
        size = 2 * tmp + 1
        x_ = np.arange(0, size, 1, np.float32)
        y_ = x_[:, None]
        g = np.exp(-((x_ - size // 2) ** 2 + (y_ - size // 2) ** 2) / (2 * sigma**2))
        gx = max(0, -ul[0]), min(br[0], heatmap_size[0]) - ul[0]
        gy = max(0, -ul[1]), min(br[1], heatmap_size[1]) - ul[1]
        ix = max(0, ul[0]), min(br[0], heatmap_size[0])
        iy = max(0, ul[1]), min(br[1], heatmap_size[1])
        target[j][iy[0]:iy[1], ix[0]:ix[1]] = g[gy[0]:gy[1], gx[0]:gx[1]]
    return target


def xywh2cs(box, aspect=192 / 256):
    """HRNet's ``_xywh2cs`` (lib/dataset/coco.py:214-229), pixel_std 200."""
    x, y, w, h = box
    center = np.array([x + w * 0.5, y + h * 0.5])
    if w > aspect * h:
        h = w / aspect
    elif w < aspect * h:
        w = h * aspect
    return center, np.array([w / 200, h / 200]) * 1.25


def mpii_cs(person: dict) -> tuple[np.ndarray, np.ndarray]:
    """HRNet's MPII centre and scale (lib/dataset/mpii.py:55-65): 15 x scale down, x 1.25, then to 0-based."""
    c, s = np.array(person["center"], float), np.array([person["scale"]] * 2, float)
    c[1] += 15 * s[1]
    return c - 1, s * 1.25


def princeton_transform(center, scale, res) -> np.ndarray:
    """``get_transform`` (utils/img.py:9-17), no rotation."""
    h = 200 * scale
    return np.array([[res / h, 0, res * (-center[0] / h + 0.5)], [0, res / h, res * (-center[1] / h + 0.5)],
                     [0, 0, 1.0]])


def princeton_input(rgb: np.ndarray, center, scale, res: int = 256) -> np.ndarray:
    """``crop`` (utils/img.py:44-63) and ``img / 255`` (test.py:42), (3, res, res): the window between the corners
    ``transform`` maps back and truncates, zero-padded, resized by cv2.resize (bilinear, half-pixel centres, the
    window's edge repeated)."""
    inv = np.linalg.inv(princeton_transform(center, scale, res))
    ul = (inv @ [0, 0, 1.0])[:2].astype(int)
    br = (inv @ [res, res, 1.0])[:2].astype(int)
    window = np.zeros((br[1] - ul[1], br[0] - ul[0], 3))
    nx, ny = max(0, -ul[0]), min(br[0], rgb.shape[1]) - ul[0]
    my, ly = max(0, -ul[1]), min(br[1], rgb.shape[0]) - ul[1]
    ox, oy = (max(0, ul[0]), min(rgb.shape[1], br[0])), (max(0, ul[1]), min(rgb.shape[0], br[1]))
    window[my:ly, nx:ny] = rgb[oy[0]:oy[1], ox[0]:ox[1]]
    n_y, n_x = window.shape[:2]
    xs = np.clip((np.arange(res) + 0.5) * n_x / res - 0.5, 0, n_x - 1)
    ys = np.clip((np.arange(res) + 0.5) * n_y / res - 0.5, 0, n_y - 1)
    gy, gx = np.meshgrid(ys, xs, indexing="ij")
    return bilinear(window, gx, gy).transpose(2, 0, 1) / 255


def princeton_target(joints_1based: np.ndarray, center, scale, res: int = 256, out: int = 64) -> np.ndarray:
    """The target of data/MPII/dp.py:67-106 without augmentation: each joint to the input by ``transform`` (truncated),
    to the 64-pixel frame by get_transform, then ``GenerateHeatmap`` (dp.py:9-39) at ``int`` of it, sigma 1."""
    sigma = out / 64
    size = int(6 * sigma + 3)
    x_ = np.arange(0, size, 1, float)
    g = np.exp(-((x_ - (3 * sigma + 1)) ** 2 + (x_[:, None] - (3 * sigma + 1)) ** 2) / (2 * sigma**2))
    to_input = princeton_transform(center, scale, res)
    to_out = princeton_transform((res / 2, res / 2), res / 200, out)
    hms = np.zeros((len(joints_1based), out, out), np.float32)
    for j, pt in enumerate(joints_1based):
        u = (to_input @ [pt[0], pt[1], 1.0])[:2].astype(int)
        x, y = (int(v) for v in (to_out @ [u[0], u[1], 1.0])[:2])
        if x < 0 or y < 0 or x >= out or y >= out:
            continue
        ul, br = (int(x - 3 * sigma - 1), int(y - 3 * sigma - 1)), (int(x + 3 * sigma + 2), int(y + 3 * sigma + 2))
        c, d = max(0, -ul[0]), min(br[0], out) - ul[0]
        a, b = max(0, -ul[1]), min(br[1], out) - ul[1]
        cc, dd = max(0, ul[0]), min(br[0], out)
        aa, bb = max(0, ul[1]), min(br[1], out)
        hms[j, aa:bb, cc:dd] = np.maximum(hms[j, aa:bb, cc:dd], g[a:b, c:d])
    return hms


class Targets(nn.Module):
    """A perfect network: it returns, batch after batch, the heatmaps its codebase trained it to output."""

    def __init__(self, maps: np.ndarray):
        super().__init__()
        self.maps, self.at = torch.as_tensor(maps), 0

    def forward(self, x):
        out = self.maps[self.at : self.at + len(x)]
        self.at += len(x)
        return out


# --- fixtures -------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def large_people(tmp_path_factory) -> Path:
    """Synthetic people on 160-pixel images (COCO's OKS needs people of some size for a perfect score)."""
    cfg = SyntheticConfig(images=ImageSetConfig(image_size=160, n_train=2, n_val=6, seed=5),
                          lifting=LiftingSetConfig(seconds=1.0, takes=1, seed=3))
    return ensure_synthetic(tmp_path_factory.mktemp("large"), cfg, "large", workers=1, progress=False)["pose2d"]


@pytest.fixture(scope="module")
def coco_root(large_people, tmp_path_factory) -> Path:
    return write_coco(tmp_path_factory.mktemp("coco"), ImageSet(large_people, "val"))


@pytest.fixture(scope="module")
def mpii_root(tiny_sets, tmp_path_factory) -> Path:
    pose2d = tiny_sets["pose2d"]
    return write_mpii(tmp_path_factory.mktemp("mpii"), ImageSet(pose2d, "train"), ImageSet(pose2d, "val"))


def _coco(root: Path):
    annotations = coco.load_annotations(root / "annotations" / "person_keypoints_val2017.json")
    return annotations, coco.person_instances(annotations).people


def _rgb(path: Path) -> np.ndarray:
    return coco.read_image(path).astype(float)


# --- the declarations -----------------------------------------------------------------------------------------------


def test_every_checkpoint_declares_how_it_was_fed_with_its_references():
    assert CHECKPOINTS
    for name, ck in CHECKPOINTS.items():
        f = ck.feeding
        assert set(f.references) == {"colour", "mean", "std", "crop", "heatmap", "one_based"}, name
        assert all("@" in ref and ":" in ref for ref in f.references.values()), name  # repository@commit file:line
    assert CHECKPOINTS["simplebaseline_r50_coco"].feeding.colour == "bgr"  # COLOR_RGB: false in its config
    assert CHECKPOINTS["hrnet_w32_coco"].feeding.colour == "rgb"
    assert CHECKPOINTS[HOURGLASS].feeding.mean is None and CHECKPOINTS[HOURGLASS].feeding.one_based


def test_a_feeding_block_without_its_references_is_refused():
    from poselab.data.feeding import parse

    raw = {"colour": "rgb", "mean": None, "std": None, "crop": "warp-affine", "heatmap": "stride*k",
           "one_based": False, "references": {"colour": "x@1 a.py:1"}}
    with pytest.raises(ValueError, match="reference code"):
        parse(raw, "someone")
    with pytest.raises(ValueError, match="crop must be one of"):
        Feeding(crop="centre")


# --- the input tensor -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", COCO_CHECKPOINTS)
def test_the_coco_input_equals_hrnets_preprocessing(name, coco_root, tmp_path):
    ck = CHECKPOINTS[name]
    annotations, people = _coco(coco_root)
    crops = coco.crop_people(annotations, coco_root / "val2017", people[:2], ck.input, feeding=ck.feeding)
    write_fixture(ck, tmp_path)
    model = load_pretrained(ck, tmp_path)
    seen = []
    model.register_forward_pre_hook(lambda m, args: seen.append(args[0].clone()))  # runs after the feeding's own
    with torch.no_grad():
        model(crops.images)
    own_input = crops.images.numpy()
    for k, p in enumerate(people[:2]):
        center, scale = xywh2cs(np.asarray(p.box))
        theirs = hrnet_input(_rgb(coco_root / "val2017" / p.file_name), center, scale, (192, 256),
                             color_rgb=ck.feeding.colour == "rgb")
        np.testing.assert_allclose(seen[0][k].numpy(), theirs, atol=1e-5)
        # what the pipeline fed before: RGB in [0, 1] with the box centre half a pixel off
        assert np.abs(own_input[k] - theirs).max() > 1.0


def test_the_mpii_hrnet_input_equals_hrnets_preprocessing(mpii_root):
    ck = CHECKPOINTS[HRNET_MPII]
    source = MPIISource(mpii_root, "valid")
    dataset = HeatmapDataset(source, 256, feeding=ck.feeding)
    people = json.loads((mpii_root / "annot" / "valid.json").read_text())
    for k in range(3):
        c, s = mpii_cs(people[k])
        theirs = hrnet_input(_rgb(mpii_root / "images" / people[k]["image"]), c, s, (256, 256), color_rgb=True)
        ours = ck.feeding.prepare(dataset[k]["image"][None])[0].numpy()
        np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_the_reference_hourglass_input_equals_its_crop(mpii_root):
    ck = CHECKPOINTS[HOURGLASS]
    source = MPIISource(mpii_root, "train")
    dataset = HeatmapDataset(source, 256, feeding=ck.feeding)
    people = json.loads((mpii_root / "annot" / "train.json").read_text())
    for k in range(4):
        c = np.array(people[k]["center"], float) + [0, 15 * people[k]["scale"]]  # valid.h5's centre and scale
        theirs = princeton_input(_rgb(mpii_root / "images" / people[k]["image"]), c, 1.25 * people[k]["scale"])
        ours = ck.feeding.prepare(dataset[k]["image"][None])[0].numpy()
        np.testing.assert_allclose(ours, theirs, atol=1e-5)
        # the window is upsampled here (48-pixel images to 256), so its edge repetition is exercised
        assert dataset.crop(k)[2] is not None


def test_the_feeding_runs_inside_the_network_and_is_differentiable():
    f = CHECKPOINTS["simplebaseline_r50_coco"].feeding
    net = attach(nn.Conv2d(3, 1, 1, bias=False), f)
    x = torch.rand(1, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    net.double()(x).sum().backward()
    w = net.weight.detach()[0, :, 0, 0]
    expected = (w.flip(0) / torch.tensor(f.std, dtype=torch.float64).flip(0))  # BGR: channel 0 takes the blue mean
    np.testing.assert_allclose(x.grad[0, :, 0, 0].numpy(), expected.numpy(), rtol=1e-12)


# --- a perfect network through poselab's pipeline ----------------------------------------------------------------


@pytest.mark.parametrize("name", COCO_CHECKPOINTS)
def test_a_network_that_outputs_hrnets_own_target_scores_ap_1(name, coco_root):
    ck = CHECKPOINTS[name]
    annotations, people = _coco(coco_root)
    crops = coco.crop_people(annotations, coco_root / "val2017", people, ck.input, feeding=ck.feeding)
    maps = []
    for p in people:
        center, scale = xywh2cs(np.asarray(p.box))
        trans = hrnet_affine(center, scale, (192, 256))
        joints = p.joints @ trans[:, :2].T + trans[:, 2]
        maps.append(generate_target(joints, p.visibility))
    maps = np.stack(maps)

    def ap(feeding: Feeding) -> float:
        joints, peaks = predict_image_joints(attach(Targets(maps), feeding), crops)
        return coco.keypoint_ap(annotations, coco.keypoint_results(people, joints, peaks))["AP"]

    assert ap(ck.feeding) == 1.0
    # decoded in poselab's own convention (cell k at 4k + 1.5), the same perfect network loses AP
    assert ap(Feeding(**{**vars(ck.feeding), "heatmap": OWN.heatmap})) < 1.0


def _errors(model: nn.Module, dataset: HeatmapDataset, source) -> np.ndarray:
    """Predicted minus annotated joints, in the network's input pixels (N * J, 2), over the annotated joints."""
    pred = predict(model, dataset)
    ann = source.annotated()[pred.indices]
    frames = np.stack([dataset.matrix(int(k))[0] for k in range(len(dataset))])
    to_input = lambda xy: np.einsum("nij,nkj->nki", frames[:, :2, :2], xy) + frames[:, None, :2, 2]  # noqa: E731
    return (to_input(pred.joints) - to_input(source.joints()[pred.indices]))[ann]


def test_a_network_that_outputs_its_own_target_is_decoded_on_the_joint_mpii_hrnet(mpii_root):
    ck = CHECKPOINTS[HRNET_MPII]
    source = MPIISource(mpii_root, "train")  # its joints are the JSON's (validation's are gt_valid.mat's, rounded)
    dataset = HeatmapDataset(source, 256, feeding=ck.feeding)
    people = json.loads((mpii_root / "annot" / "train.json").read_text())
    maps = []
    for k, p in enumerate(people):
        trans = hrnet_affine(*mpii_cs(p), (256, 256))
        joints = (np.array(p["joints"], float) - 1) @ trans[:, :2].T + trans[:, 2]  # mpii.py:70-71
        maps.append(generate_target(joints, source.annotated()[k], (256, 256), (64, 64)))
    err = _errors(attach(Targets(np.stack(maps)), ck.feeding), dataset, source)
    assert np.abs(err).max() <= 2.0 + 1e-4  # the target's cell is the joint rounded to a multiple of 4
    wrong = _errors(attach(Targets(np.stack(maps)), Feeding(**{**vars(ck.feeding), "heatmap": OWN.heatmap})),
                    HeatmapDataset(source, 256, feeding=Feeding(**{**vars(ck.feeding), "heatmap": OWN.heatmap})),
                    source)
    assert np.abs(wrong).max() > 2.5


def test_a_network_that_outputs_its_own_target_is_decoded_on_the_joint_reference_hourglass(mpii_root):
    ck = CHECKPOINTS[HOURGLASS]
    source = MPIISource(mpii_root, "train")
    dataset = HeatmapDataset(source, 256, feeding=ck.feeding)
    people = json.loads((mpii_root / "annot" / "train.json").read_text())
    maps = []
    for k, p in enumerate(people):
        c = np.array(p["center"], float) + [0, 15 * p["scale"]]
        joints = np.array(p["joints"], float)  # 1-based, as the reference reads them
        joints[~source.annotated()[k]] = -1e4  # unannotated joints get no target
        maps.append(princeton_target(joints, c, 1.25 * p["scale"]))
    err = _errors(attach(Targets(np.stack(maps)), ck.feeding), dataset, source)
    assert np.abs(err).max() <= 2.0 + 1e-4 and np.abs(err.mean(0)).max() < 0.5


def test_a_dataset_and_a_network_fed_differently_are_refused(tiny_sets):
    from poselab.data.pose_dataset import SyntheticSource

    source = SyntheticSource(ImageSet(tiny_sets["pose2d"], "val"))
    with pytest.raises(ValueError, match="feeding"):
        predict(attach(nn.Conv2d(3, 16, 1), CHECKPOINTS[HRNET_MPII].feeding), HeatmapDataset(source, 32))


def test_poselabs_own_models_keep_their_convention(tiny_sets):
    from poselab.data.pose_dataset import SyntheticSource

    ds = HeatmapDataset(SyntheticSource(ImageSet(tiny_sets["pose2d"], "val")), TINY.images.image_size)
    frame, pixels, window, _ = ds.crop(0)
    assert window is None and np.array_equal(frame, pixels) and ds.feeding == OWN
    assert np.allclose(frame[:2, 2], 0)  # the whole image, box centre on the centre pixel: the identity
