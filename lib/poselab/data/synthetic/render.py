"""Rendering the synthetic world: a shaded, depth-ordered person on a cluttered scene.

The body is a union of tapered capsules (limbs, torso blocks, head, hair, face points),
rasterised as 2.5D impostors: every pixel of a capsule's silhouette gets a depth and a
surface normal from its distance to the capsule's axis, so parts occlude each other
correctly and are Lambert-shaded.  Backgrounds are crops of procedural textures (wall and
floor split at the camera's true horizon) with clutter behind the person; occluders drawn
in front hide joints, which are then left unannotated, as in MPII or COCO.

Joint status codes (one per joint and sample):

=================  ==  ==========================================================
``TRUNCATED``       0   outside the image                         (unannotated)
``OCCLUDED``        1   behind a foreign object                   (unannotated)
``SELF_OCCLUDED``   2   behind the person's own body              (annotated, not visible)
``VISIBLE``         3   seen by the camera                        (annotated, visible)
=================  ==  ==========================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from poselab.data.joints import INTERNAL_INDEX, INTERNAL_NAMES
from poselab.data.synthetic.camera import Camera, horizon_coefficients, project_points
from poselab.data.synthetic.skeleton import Subject

TRUNCATED, OCCLUDED, SELF_OCCLUDED, VISIBLE = 0, 1, 2, 3
STATUS_NAMES = {TRUNCATED: "truncated", OCCLUDED: "occluded by object",
                SELF_OCCLUDED: "self-occluded", VISIBLE: "visible"}


def annotated(status: np.ndarray) -> np.ndarray:
    """True where a joint carries a ground-truth annotation (inside the image, not behind an object)."""
    return np.asarray(status) >= SELF_OCCLUDED


def coco_visibility(status: np.ndarray) -> np.ndarray:
    """COCO's v flag: 0 unannotated, 1 annotated but not visible, 2 visible."""
    return np.array([0, 0, 1, 2], dtype=np.uint8)[np.asarray(status)]


# --------------------------------------------------------------------------- appearance

CLOTH_COLOURS = np.array(
    [(0.80, 0.12, 0.12), (0.12, 0.30, 0.70), (0.15, 0.55, 0.25), (0.90, 0.75, 0.15),
     (0.92, 0.92, 0.90), (0.15, 0.15, 0.17), (0.55, 0.25, 0.60), (0.95, 0.50, 0.15),
     (0.40, 0.60, 0.85), (0.55, 0.45, 0.35), (0.30, 0.30, 0.35), (0.10, 0.45, 0.45),
     (0.85, 0.45, 0.55), (0.60, 0.70, 0.20)]
)
PANTS_COLOURS = np.array(
    [(0.12, 0.16, 0.30), (0.20, 0.20, 0.22), (0.45, 0.38, 0.28), (0.08, 0.08, 0.08),
     (0.30, 0.35, 0.45), (0.55, 0.50, 0.42), (0.35, 0.22, 0.15), (0.75, 0.75, 0.72)]
)
EYE_COLOUR = (0.08, 0.06, 0.05)


@dataclass(frozen=True)
class Outfit:
    shirt: tuple[float, float, float]
    pants: tuple[float, float, float]
    shoes: tuple[float, float, float]
    long_sleeves: bool
    shorts: bool
    accent: tuple[float, float, float]  # the print on the shirt's front: people look different from behind


def sample_outfit(rng: np.random.Generator) -> Outfit:
    jitter = lambda c: tuple(np.clip(c * rng.uniform(0.8, 1.15, 3), 0, 1))  # noqa: E731
    return Outfit(
        shirt=jitter(CLOTH_COLOURS[rng.integers(len(CLOTH_COLOURS))]),
        pants=jitter(PANTS_COLOURS[rng.integers(len(PANTS_COLOURS))]),
        shoes=jitter(PANTS_COLOURS[rng.integers(len(PANTS_COLOURS))] * 0.6),
        long_sleeves=bool(rng.random() < 0.5),
        shorts=bool(rng.random() < 0.25),
        accent=jitter(CLOTH_COLOURS[rng.integers(len(CLOTH_COLOURS))]),
    )


@dataclass(frozen=True)
class Light:
    direction: np.ndarray  # (3,) unit vector towards the light, camera coordinates
    ambient: float
    diffuse: float


def sample_light(rng: np.random.Generator) -> Light:
    d = np.array([rng.uniform(-0.8, 0.8), rng.uniform(-1.0, -0.3), rng.uniform(-1.0, -0.4)])
    return Light(d / np.linalg.norm(d), float(rng.uniform(0.3, 0.5)), float(rng.uniform(0.5, 0.75)))


# Radius of the body around each joint (metres, before the subject's girth): a joint
# counts as visible when nothing lies in front of its own surface.
JOINT_RADII = {
    "pelvis": 0.12, "r_hip": 0.09, "l_hip": 0.09, "r_knee": 0.06, "l_knee": 0.06,
    "r_ankle": 0.042, "l_ankle": 0.042, "r_toe": 0.035, "l_toe": 0.035, "spine": 0.12,
    "thorax": 0.12, "upper_neck": 0.055, "head_center": 0.085, "head_top": 0.0, "nose": 0.02,
    "l_eye": 0.013, "r_eye": 0.013, "l_ear": 0.024, "r_ear": 0.024, "l_shoulder": 0.075,
    "r_shoulder": 0.075, "l_elbow": 0.045, "r_elbow": 0.045, "l_wrist": 0.033, "r_wrist": 0.033,
    "l_hand": 0.03, "r_hand": 0.03,
}
_FACE = {"head_top", "nose", "l_eye", "r_eye", "l_ear", "r_ear"}  # radii do not scale with girth


def joint_radii(subject: Subject) -> np.ndarray:
    return np.array(
        [JOINT_RADII[n] * (1.0 if n in _FACE else subject.girth) for n in INTERNAL_NAMES]
    )


@dataclass
class Parts:
    """Capsules in camera coordinates: end points (P, 3), radii (P,) metres, colours (P, 3)."""

    a: np.ndarray
    b: np.ndarray
    ra: np.ndarray
    rb: np.ndarray
    colour: np.ndarray


def body_parts(joints_cam: np.ndarray, subject: Subject, outfit: Outfit) -> Parts:
    """The capsules that make up a person posed at ``joints_cam`` (27, 3), camera frame."""
    J = {n: joints_cam[i] for n, i in INTERNAL_INDEX.items()}
    g = subject.girth
    skin, hair = np.array(subject.skin), np.array(subject.hair)
    shirt, pants, shoes = np.array(outfit.shirt), np.array(outfit.pants), np.array(outfit.shoes)
    up = J["head_top"] - J["head_center"]
    up /= np.linalg.norm(up)
    fwd = J["nose"] - J["head_center"]
    fwd -= up * (fwd @ up)
    fwd /= np.linalg.norm(fwd)
    hs = np.linalg.norm(J["head_top"] - J["head_center"]) / 0.115  # head size factor
    belt = J["pelvis"] + 0.35 * (J["spine"] - J["pelvis"])
    hair_c = J["head_center"] + hs * (0.03 * up - 0.022 * fwd)
    # The torso's front (x = left, y = up, z = forward: left x up = forward).
    chest = np.cross(J["l_shoulder"] - J["r_shoulder"], J["thorax"] - J["spine"])
    chest /= np.linalg.norm(chest)
    print_lo = J["spine"] + 0.15 * (J["thorax"] - J["spine"]) + 0.1 * g * chest
    print_hi = J["spine"] + 0.75 * (J["thorax"] - J["spine"]) + 0.095 * g * chest

    parts: list[tuple] = [
        (J["pelvis"], J["pelvis"], 0.125 * g, 0.125 * g, pants),
        (J["l_hip"], J["r_hip"], 0.095 * g, 0.095 * g, pants),
        (belt, J["spine"], 0.12 * g, 0.128 * g, shirt),
        (J["spine"], J["thorax"], 0.13 * g, 0.115 * g, shirt),
        (J["l_shoulder"], J["r_shoulder"], 0.072 * g, 0.072 * g, shirt),
        (J["spine"], J["l_shoulder"], 0.10 * g, 0.07 * g, shirt),
        (J["spine"], J["r_shoulder"], 0.10 * g, 0.07 * g, shirt),
        (J["thorax"], J["upper_neck"], 0.055 * g, 0.05 * g, skin),
        # Front cues: a print down the shirt, the neckline and a belt buckle, seen only from the front.
        (print_lo, print_hi, 0.045 * g, 0.045 * g, np.array(outfit.accent)),
        (J["thorax"] + 0.075 * g * chest, J["thorax"] + 0.075 * g * chest, 0.045 * g, 0.045 * g, skin),
        (belt + 0.105 * g * chest, belt + 0.105 * g * chest, 0.028 * g, 0.028 * g, np.array((0.75, 0.7, 0.55))),
        (J["head_center"] - 0.02 * hs * up, J["head_center"] + 0.03 * hs * up, 0.085 * hs, 0.085 * hs, skin),
        (hair_c, hair_c, 0.092 * hs, 0.092 * hs, hair),
        (J["l_eye"], J["l_eye"], 0.013 * hs, 0.013 * hs, np.array(EYE_COLOUR)),
        (J["r_eye"], J["r_eye"], 0.013 * hs, 0.013 * hs, np.array(EYE_COLOUR)),
        (J["nose"], J["nose"], 0.02 * hs, 0.02 * hs, skin),
        (J["l_ear"], J["l_ear"], 0.024 * hs, 0.024 * hs, skin),
        (J["r_ear"], J["r_ear"], 0.024 * hs, 0.024 * hs, skin),
    ]
    if subject.long_hair:
        tail = J["head_center"] - hs * (0.13 * up + 0.045 * fwd)
        parts.append((hair_c, tail, 0.08 * hs, 0.06 * hs, hair))
    for s in "lr":
        parts += [
            (J[f"{s}_shoulder"], J[f"{s}_elbow"], 0.055 * g, 0.045 * g, shirt),
            (J[f"{s}_elbow"], J[f"{s}_wrist"], 0.045 * g, 0.033 * g, shirt if outfit.long_sleeves else skin),
            (J[f"{s}_wrist"], J[f"{s}_hand"], 0.036 * g, 0.03 * g, skin),
            (J[f"{s}_hip"], J[f"{s}_knee"], 0.085 * g, 0.06 * g, pants),
            (J[f"{s}_knee"], J[f"{s}_ankle"], 0.058 * g, 0.042 * g, skin if outfit.shorts else pants),
            (J[f"{s}_ankle"], J[f"{s}_toe"], 0.042 * g, 0.035 * g, shoes),
        ]
    a, b, ra, rb, c = zip(*parts, strict=True)
    return Parts(np.array(a), np.array(b), np.array(ra), np.array(rb), np.array(c))


# --------------------------------------------------------------------------- rasteriser


@dataclass
class Layer:
    """A rendered person: colour (H, W, 3), coverage alpha (H, W), depth (H, W) metres (inf = empty)."""

    rgb: np.ndarray
    alpha: np.ndarray
    depth: np.ndarray


def rasterize(parts: Parts, K: np.ndarray, width: int, height: int, light: Light) -> Layer:
    """Z-buffered, Lambert-shaded rendering of capsules given in camera coordinates.

    All parts are rasterised at once: the pixels of every part's bounding box form one flat
    list, each pixel gets its coverage, depth and normal from its distance to the part's
    axis, and the z-buffer is resolved with ``np.minimum.at``.  A pixel shows the nearest part
    that covers at least half of it (else the nearest part touching it), and its alpha is the
    largest coverage of any part, so the silhouette is anti-aliased.
    """
    n_pix = width * height
    f = K[0, 0]
    za, zb = parts.a[:, 2], parts.b[:, 2]
    pa, pb = project_points(parts.a, K), project_points(parts.b, K)
    ra_px = f * parts.ra / np.maximum(za, 1e-3)
    rb_px = f * parts.rb / np.maximum(zb, 1e-3)
    lo = np.floor(np.minimum(pa - ra_px[:, None], pb - rb_px[:, None])).astype(int) - 1
    hi = np.ceil(np.maximum(pa + ra_px[:, None], pb + rb_px[:, None])).astype(int) + 2
    lo = np.clip(lo, 0, [width, height])
    hi = np.clip(hi, 0, [width, height])
    size = np.where(((za > 0.05) & (zb > 0.05))[:, None], hi - lo, 0).clip(0)
    area = size[:, 0] * size[:, 1]
    # One row per (part, pixel of its bounding box).
    part = np.repeat(np.arange(len(area)), area)
    k = np.arange(part.size) - np.repeat(np.cumsum(area) - area, area)
    w = size[part, 0]
    px, py = lo[part, 0] + k % np.maximum(w, 1), lo[part, 1] + k // np.maximum(w, 1)
    ab = pb - pa
    l2 = (ab * ab).sum(1)
    inv_l2 = np.where(l2 > 1e-6, 1 / np.maximum(l2, 1e-6), 0.0)  # spheres: t = 0
    dx, dy = (px - pa[part, 0]).astype(np.float32), (py - pa[part, 1]).astype(np.float32)
    abx, aby = ab[part, 0].astype(np.float32), ab[part, 1].astype(np.float32)
    t = np.clip((dx * abx + dy * aby) * inv_l2[part].astype(np.float32), 0, 1)
    cx, cy = dx - t * abx, dy - t * aby
    d2 = cx * cx + cy * cy
    r = (ra_px[part] + t * (rb_px - ra_px)[part]).astype(np.float32)
    cover = np.clip(r + 0.5 - np.sqrt(d2), 0, 1)
    touch = cover > 0
    part, t, cx, cy, d2, r, cover = (a[touch] for a in (part, t, cx, cy, d2, r, cover))
    lin = (py * width + px)[touch]
    inv_r = 1 / r
    nz = np.sqrt(np.maximum(1 - d2 * inv_r * inv_r, 0))
    z = (za[part] + t * (zb - za)[part] - (parts.ra[part] + t * (parts.rb - parts.ra)[part]) * nz).astype(np.float32)
    # Depth: the nearest part covering at least half a pixel.
    solid = cover >= 0.5
    depth = np.full(n_pix, np.inf, np.float32)
    np.minimum.at(depth, lin[solid], z[solid])
    # Where no part covers half the pixel, the nearest touching part gives the colour.
    edge = np.full(n_pix, np.inf, np.float32)
    loose = np.isinf(depth[lin])
    np.minimum.at(edge, lin[loose], z[loose])
    shown = np.where(loose, z == edge[lin], solid & (z == depth[lin]))
    alpha = np.zeros(n_pix, np.float32)
    np.maximum.at(alpha, lin, cover)
    lambert = (cx * light.direction[0] + cy * light.direction[1]) * inv_r - nz * light.direction[2]
    shade = np.zeros(n_pix, np.float32)
    shade[lin[shown]] = lambert[shown]
    part_id = np.full(n_pix, -1, np.int64)
    part_id[lin[shown]] = part[shown]
    # part_id -1 (no part) picks the appended black row.
    colours = np.vstack([parts.colour, np.zeros((1, 3))]).astype(np.float32)
    light_level = light.ambient + light.diffuse * np.maximum(shade, 0)
    rgb = colours[part_id] * light_level[:, None]
    return Layer(rgb.reshape(height, width, 3), alpha.reshape(height, width), depth.reshape(height, width))


def joint_status(
    joints_cam: np.ndarray,
    joints_2d: np.ndarray,
    depth: np.ndarray,
    radii: np.ndarray,
    occluder: np.ndarray | None = None,
    tolerance: float = 0.02,
) -> np.ndarray:
    """Classify each joint as visible, self-occluded, occluded by an object or truncated.

    joints_cam (J, 3) metres, joints_2d (J, 2) pixels, depth (H, W) z-buffer of the person
    (metres, inf where empty), radii (J,) metres from the joint to its body surface,
    occluder (H, W) bool mask of foreign objects in front of the person.
    """
    h, w = depth.shape
    status = np.full(len(joints_cam), VISIBLE, np.uint8)
    u = np.round(joints_2d[:, 0]).astype(int)
    v = np.round(joints_2d[:, 1]).astype(int)
    inside = (u >= 0) & (u < w) & (v >= 0) & (v < h) & (joints_cam[:, 2] > 0)
    status[~inside] = TRUNCATED
    ui, vi = u[inside], v[inside]
    surface = joints_cam[inside, 2] - radii[inside] - tolerance
    hidden = depth[vi, ui] < surface
    st = status[inside]
    st[hidden] = SELF_OCCLUDED
    if occluder is not None:
        st[occluder[vi, ui]] = OCCLUDED
    status[inside] = st
    return status


# --------------------------------------------------------------------------- scenery


def _value_noise(rng: np.random.Generator, size: int, octaves: int = 4) -> np.ndarray:
    """Smooth multi-octave noise in [0, 1], shape (size, size)."""
    out = np.zeros((size, size))
    for o in range(octaves):
        n = 4 * 2**o
        grid = rng.random((n + 1, n + 1))
        x = np.linspace(0, n, size, endpoint=False)
        i = x.astype(int)
        fr = x - i
        fr = fr * fr * (3 - 2 * fr)
        rows = grid[i] * (1 - fr)[:, None] + grid[i + 1] * fr[:, None]
        out += (rows[:, i] * (1 - fr) + rows[:, i + 1] * fr) / 2**o
    out -= out.min()
    return out / max(out.max(), 1e-9)


def _texture(rng: np.random.Generator, size: int, kind: str) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size] / size
    noise = _value_noise(rng, size)
    if kind == "plaster":
        return 0.75 + 0.25 * noise
    if kind == "stripes":
        a, k = rng.uniform(0, np.pi), rng.uniform(8, 30)
        return 0.7 + 0.2 * (np.sin(k * np.pi * (xx * np.cos(a) + yy * np.sin(a))) > 0) + 0.1 * noise
    if kind == "tiles":
        n = rng.integers(4, 12)
        gx, gy = (xx * n) % 1, (yy * n * rng.uniform(0.5, 1.5)) % 1
        grout = (np.minimum(gx, 1 - gx) < 0.04) | (np.minimum(gy, 1 - gy) < 0.04)
        tile = rng.uniform(0.8, 1.0, (n + 1, n * 2 + 1))[
            (yy * n * 1.5).astype(int) % (n + 1), (xx * n).astype(int) % (n * 2 + 1)
        ]
        return np.where(grout, 0.45, tile) * (0.9 + 0.1 * noise)
    if kind == "wood":
        k = rng.uniform(20, 60)
        return 0.65 + 0.25 * np.sin(k * (yy + 0.15 * noise)) ** 2 + 0.1 * noise
    if kind == "checker":
        n = rng.integers(3, 10)
        return 0.6 + 0.35 * (((xx * n).astype(int) + (yy * n).astype(int)) % 2) + 0.05 * noise
    raise ValueError(kind)


TEXTURE_KINDS = ("plaster", "stripes", "tiles", "wood", "checker", "plaster")
WALL_COLOURS = np.array(
    [(0.85, 0.82, 0.75), (0.70, 0.75, 0.80), (0.60, 0.55, 0.50), (0.85, 0.78, 0.62),
     (0.50, 0.58, 0.52), (0.78, 0.70, 0.72), (0.40, 0.42, 0.48), (0.92, 0.90, 0.88)]
)


class TextureBank:
    """Procedural textures and a noise field, made once per worker and cropped per image."""

    def __init__(self, seed: int, image_size: int, n_textures: int = 24):
        rng = np.random.default_rng([seed, 0x7E47])
        self.size = image_size
        self.tile = 2 * image_size
        self.textures = np.stack(
            [_texture(rng, self.tile, TEXTURE_KINDS[i % len(TEXTURE_KINDS)]) for i in range(n_textures)]
        ).astype(np.float32)
        self.noise = rng.standard_normal((self.tile, self.tile, 3)).astype(np.float32)

    def crop(self, rng: np.random.Generator, h: int, w: int, which: int | None = None) -> np.ndarray:
        k = rng.integers(len(self.textures)) if which is None else which
        tex = self.textures[k]
        y = rng.integers(0, max(self.tile - h, 0) + 1)
        x = rng.integers(0, max(self.tile - w, 0) + 1)
        out = tex[y : y + h, x : x + w]
        if out.shape != (h, w):  # a region larger than the tile: repeat it
            out = np.tile(tex, (h // self.tile + 1, w // self.tile + 1))[:h, :w]
        return out

    def noise_crop(self, rng: np.random.Generator, h: int, w: int) -> np.ndarray:
        y = rng.integers(0, self.tile - h + 1)
        x = rng.integers(0, self.tile - w + 1)
        return self.noise[y : y + h, x : x + w]


def _tint(rng: np.random.Generator, palette: np.ndarray) -> np.ndarray:
    return np.clip(palette[rng.integers(len(palette))] * rng.uniform(0.75, 1.15, 3), 0, 1)


def background(bank: TextureBank, rng: np.random.Generator, cam: Camera) -> np.ndarray:
    """Wall above the camera's horizon, floor below, each a tinted texture crop; (H, W, 3)."""
    h, w = cam.height, cam.width
    wall = bank.crop(rng, h, w)[..., None] * _tint(rng, WALL_COLOURS)
    floor = bank.crop(rng, h, w)[..., None] * _tint(rng, WALL_COLOURS) * 0.8
    a, b, c = horizon_coefficients(cam)
    below = (a * np.arange(w)[None, :] + b * np.arange(h)[:, None] + c) < 0
    img = np.where(below[..., None], floor, wall).astype(np.float32)
    # A soft light falloff across the scene.
    gy = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
    gx = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
    img *= (1 + rng.uniform(-0.15, 0.15) * gx + rng.uniform(-0.15, 0.15) * gy)[..., None]
    return img


def _shape_coverage(kind: str, h: int, w: int, cx: float, cy: float, sx: float, sy: float, angle: float):
    """Anti-aliased coverage of a box, ellipse or bar, with its bounding window."""
    ext = np.hypot(sx, sy) + 1
    x0, x1 = int(max(cx - ext, 0)), int(min(cx + ext + 1, w))
    y0, y1 = int(max(cy - ext, 0)), int(min(cy + ext + 1, h))
    if x1 <= x0 or y1 <= y0:
        return None
    X = np.arange(x0, x1, dtype=np.float32)[None, :] - cx
    Y = np.arange(y0, y1, dtype=np.float32)[:, None] - cy
    ca, sa = np.cos(angle), np.sin(angle)
    u, v = X * ca + Y * sa, -X * sa + Y * ca
    if kind == "ellipse":
        d = (np.sqrt((u / sx) ** 2 + (v / sy) ** 2) - 1) * min(sx, sy)
    else:  # box and bar
        d = np.maximum(np.abs(u) - sx, np.abs(v) - sy)
    cover = np.clip(0.5 - d, 0, 1)
    return (y0, y1, x0, x1), cover


def draw_objects(
    img: np.ndarray,
    bank: TextureBank,
    rng: np.random.Generator,
    n: int,
    region: tuple[float, float, float, float] | None = None,
    muted: bool = False,
) -> np.ndarray:
    """Paint n random boxes, bars and ellipses into img (in place); returns their coverage (H, W).

    region (x0, y0, x1, y1) keeps the objects' centres inside a box (e.g. the person's);
    muted mixes their colours halfway to grey, as furniture in the background.
    """
    h, w = img.shape[:2]
    covered = np.zeros((h, w), np.float32)
    x0, y0, x1, y1 = region if region is not None else (0, 0, w, h)
    scale = max(x1 - x0, y1 - y0)
    for _ in range(n):
        kind = ("box", "box", "bar", "ellipse")[rng.integers(4)]
        cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if kind == "bar":
            sx, sy = scale * rng.uniform(0.02, 0.06), scale * rng.uniform(0.3, 0.8)
        else:
            sx, sy = scale * rng.uniform(0.08, 0.25), scale * rng.uniform(0.08, 0.25)
        angle = rng.uniform(-0.4, 0.4) if kind != "ellipse" else rng.uniform(0, np.pi)
        got = _shape_coverage(kind, h, w, cx, cy, sx, sy, angle)
        if got is None:
            continue
        (ya, yb, xa, xb), cover = got
        colour = rng.uniform(0.1, 0.95, 3) * rng.uniform(0.6, 1.0)
        if muted:
            colour = 0.5 * colour + 0.5 * colour.mean()
        colour = colour.astype(np.float32)
        tex = bank.crop(rng, yb - ya, xb - xa)
        shade = (0.75 + 0.3 * tex)[..., None] * colour
        # Simple shading: darker towards the bottom edge of the object.
        shade *= np.linspace(1.05, 0.8, yb - ya, dtype=np.float32)[:, None, None]
        c = cover[..., None]
        img[ya:yb, xa:xb] = c * shade + (1 - c) * img[ya:yb, xa:xb]
        covered[ya:yb, xa:xb] = np.maximum(covered[ya:yb, xa:xb], cover)
    return covered


def draw_shadow(img: np.ndarray, cam: Camera, feet_world: np.ndarray, strength: float = 0.45) -> None:
    """Darken an ellipse on the floor under the person (in place)."""
    centre = np.array([feet_world[:, 0].mean(), 0.0, feet_world[:, 2].mean()])
    ring = centre + np.array([[0.4, 0, 0], [-0.4, 0, 0], [0, 0, 0.3], [0, 0, -0.3]])
    cam_pts = cam.to_camera(ring)
    if (cam_pts[:, 2] <= 0.1).any():
        return
    uv = project_points(cam_pts, cam.K)
    cx, cy = uv.mean(axis=0)
    sx = max(np.ptp(uv[:, 0]) / 2, 1.0)
    sy = max(np.ptp(uv[:, 1]) / 2, 1.0)
    got = _shape_coverage("ellipse", *img.shape[:2], cx, cy, sx, sy, 0.0)
    if got is None:
        return
    (ya, yb, xa, xb), cover = got
    img[ya:yb, xa:xb] *= (1 - strength * cover**0.5)[..., None]


def composite(img: np.ndarray, layer: Layer) -> None:
    """Alpha-composite a person layer over img (in place)."""
    a = layer.alpha[..., None]
    img *= 1 - a
    img += a * layer.rgb
