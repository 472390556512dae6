"""How long the ``full`` profile takes on one device, projected from training speeds (``python -m poselab.bench --only
full``).

``schedule(profile)`` lists the work: every training run (images, or lifting iterations, per run and how many runs),
its validation passes, PoseIG's path passes and the forward passes of the skip and latent studies.  ``project(parts,
speeds)`` turns it into hours, one row per part, from a speed per part with its source.  On a GPU the bench measures
each speed on the device; elsewhere ``stated_speed`` gives the GPU rows measured earlier (``GPU_ROWS``, named in every
row), scaled by multiply-accumulates (``poselab.models.complexity.count_macs``) for a model without a row of its own.

A forward pass costs a third of a training image (forward + backward: about 3x the forward), and a PoseIG path point
one training image (one forward, one backward for all joints together).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

FORWARD = 1 / 3  # a forward-only pass in training-image units


@dataclass(frozen=True)
class Speed:
    value: float  # training images (lifting: iterations) per second
    source: str  # where the number comes from


@dataclass(frozen=True)
class Part:
    """One piece of the profile's work, in training-image units (lifting: iterations) per run."""

    name: str
    family: str  # "hourglass", "hrnet", "simplebaseline", "lifting"
    work: float
    runs: int = 1
    spec: dict | None = None  # the model (None for lifting)
    size: int = 0  # input side
    batch: int = 0
    optimizer: str = "adam"
    lifting: str | None = None  # "vae_gan" or "supervised"
    unit: str = "images"


@dataclass(frozen=True)
class GPURow:
    family: str
    stacks: int | None  # hourglass stacks (None: any model of the family)
    size: int
    batch: int
    value: float
    precision: str
    source: str


# Training img/s measured on one H100 (80 GB, SXM) on 2026-11-22, before the data pipeline moved to the device; newer
# rows replace these once ``make gpu-check`` has measured them.
H100 = "H100, measured 2026-11-22"
GPU_ROWS = (
    GPURow("hourglass", 2, 256, 64, 961.0, "bfloat16 autocast, channels_last", H100),
    GPURow("hourglass", 2, 256, 32, 612.0, "float32", H100),
    GPURow("hourglass", 8, 256, 64, 243.0, "bfloat16 autocast, channels_last", H100),
    GPURow("hrnet", None, 256, 32, 201.0, "float32", H100),
)


def gpu_row(family: str, stacks: int | None, size: int, batch: int, rows=GPU_ROWS) -> GPURow | None:
    """The measured row of this model at this input side and batch, if there is one."""
    for r in rows:
        if r.family == family and r.size == size and r.batch == batch and r.stacks in (None, stacks):
            return r
    return None


def flop_rate(row: GPURow, macs: float) -> float:
    """FLOP/s a measured row achieved: 2 FLOPs per multiply-accumulate, 3 passes (forward + backward) per image."""
    return row.value * 6 * macs


def stated_speed(part: Part, macs: float, reference: tuple[GPURow, float] | None, rows=GPU_ROWS) -> Speed:
    """The part's speed from the stated GPU rows: its own row, else ``reference``'s achieved FLOP/s (a measured row
    and its model's multiply-accumulates per image, or per lifting iteration) divided by this part's FLOPs."""
    stacks = part.spec.get("n_stacks") if part.spec else None
    own = gpu_row(part.family, stacks, part.size, part.batch, rows) if part.spec else None
    if own is not None:
        return Speed(own.value, f"{own.source}: {own.precision}, batch {own.batch}")
    if reference is None:
        raise ValueError(f"{part.name}: no GPU row and no reference to scale from")
    ref, ref_macs = reference
    what = f"{ref.family}{'' if ref.stacks is None else f' {ref.stacks}-stack'} {ref.size}px batch {ref.batch}"
    return Speed(flop_rate(ref, ref_macs) / (6 * macs),
                 f"estimate: the achieved FLOP/s of {what} ({ref.source}) over this model's FLOPs; no GPU row")


def project(parts: list[Part], speeds: dict[str, Speed]) -> tuple[list[dict], float]:
    """(one row per part: name, runs, work, unit, speed, source, hours; the total hours)."""
    rows, total = [], 0.0
    for p in parts:
        speed = speeds[p.name]
        hours = p.work * p.runs / speed.value / 3600
        total += hours
        rows.append({"name": p.name, "runs": p.runs, "work": p.work, "unit": p.unit, "speed": speed.value,
                     "source": speed.source, "hours": hours})
    return rows, total


def _lifting_iterations(profile, per_epoch_samples: int, epochs: float) -> int:
    return int(math.ceil(per_epoch_samples / profile.lifting.batch_size) * epochs)


def lifting_samples(profile, h36m: bool = False) -> int:
    """Protocol #1 training samples per epoch: Human3.6M's S1, S5, S6, S7, S8 at every 5th frame (VideoPose3D's
    1,559,752 frames of the 4 cameras), or the synthetic motion of the profile."""
    from poselab.data.synthetic.motion import ACTIONS
    from poselab.studies.lifting.data import TRAIN_SUBJECTS

    lift = profile.lifting
    if h36m:
        return math.ceil(1_559_752 / lift.train_stride)
    cfg = profile.data.lifting
    frames = math.ceil(cfg.seconds * cfg.fps / lift.train_stride)
    return len(TRAIN_SUBJECTS) * len(ACTIONS) * cfg.takes * frames * 4


def schedule(profile, mpii: bool = False, h36m: bool = False) -> list[Part]:
    """The work of ``profile``: with ``mpii`` / ``h36m`` the real sets' sizes (MPII: 22,246 training and 2,958
    validation people; Human3.6M: ``lifting_samples``), else the profile's synthetic ones."""
    from poselab.data.joints import get_convention
    from poselab.studies.hrnet.settings import EXPERIMENTS

    n_train, n_val = (22_246, 2_958) if mpii else (profile.data.images.n_train, profile.data.images.n_val)
    hg, hr, pig, lift = profile.hourglass, profile.hrnet, profile.poseig, profile.lifting
    parts = []
    for s in hg.stacks:
        t = hg.train
        parts.append(Part(f"hourglass {s} stacks: training (02)", "hourglass",
                          (n_train + FORWARD * n_val) * t.epochs, len(hg.seeds), hg.spec(s), hg.input_size,
                          t.batch_size, t.optimizer))
    t = hr.train
    experiments = [e for e in EXPERIMENTS if e in hr.experiments]
    parts.append(Part(f"HRNet-W{hr.width}: {len(experiments)} experiments x {len(hr.seeds)} seeds (06)", "hrnet",
                      ((hr.train_samples or n_train) + FORWARD * (hr.val_samples or n_val)) * t.epochs,
                      len(experiments) * len(hr.seeds), hr.spec("as designed"), hr.input_size, t.batch_size,
                      t.optimizer))
    backbone = hg.spec(int(pig.integral_from.split("-")[1]))
    t = pig.integral_train
    parts.append(Part(f"integral regression from {pig.integral_from} (05)", "hourglass",
                      ((pig.integral_samples or n_train) + FORWARD * n_val) * t.epochs, len(hg.seeds), backbone,
                      hg.input_size, t.batch_size, t.optimizer))
    n_joints = get_convention(hg.convention).n_joints
    if pig.simplebaseline is not None:
        sb, t = pig.simplebaseline, pig.simplebaseline.train
        parts.append(Part("SimpleBaseline-ResNet50: training (05)", "simplebaseline",
                          (n_train + FORWARD * n_val) * t.epochs, 1, sb.spec(n_joints), sb.input_size, t.batch_size,
                          t.optimizer))
    # PoseIG: every compared model explains its people along the path; the main model also its randomisation tests
    path = pig.images * pig.steps
    randomisation = pig.randomization_images * pig.randomization_steps * pig.steps
    for s in hg.stacks:
        main = pig.main == hg.label(s)
        parts.append(Part(f"PoseIG on hourglass {s} stacks (05)", "hourglass", path + (randomisation if main else 0),
                          1, hg.spec(s), hg.input_size, 1))
    parts.append(Part(f"PoseIG on {len(experiments)} HRNets (05)", "hrnet", path, len(experiments),
                      hr.spec("as designed"), hr.input_size, 1))
    if pig.simplebaseline is not None:
        parts.append(Part("PoseIG on SimpleBaseline (05)", "simplebaseline",
                          path + (randomisation if pig.main == pig.simplebaseline.label else 0), 1,
                          pig.simplebaseline.spec(n_joints), pig.simplebaseline.input_size, 1))
    main = hg.spec(hg.main_stacks)
    depth_passes = hg.depth + 1  # every scale switched off once, and the intact model
    parts.append(Part("skip ablation: forward passes (03)", "hourglass",
                      FORWARD * min(profile.skips.samples, n_train) * depth_passes, 1, main, hg.input_size, 1))
    parts.append(Part("latent features: forward passes (04)", "hourglass",
                      FORWARD * min(profile.latent.samples, n_train), 1, main, hg.input_size, 1))
    samples = lifting_samples(profile, h36m)
    for kind, epochs in (("vae_gan", lift.epochs), ("supervised", lift.supervised_epochs)):
        name = "VAE-GAN" if kind == "vae_gan" else "supervised VAE"
        parts.append(Part(f"{name} h={lift.hidden}: {epochs:g} epochs (07)", "lifting",
                          _lifting_iterations(profile, samples, epochs), 1, lifting=kind, batch=lift.batch_size,
                          unit="iterations"))
    return parts


def lifting_macs(profile, kind: str) -> float:
    """Multiply-accumulates of one lifting iteration (batch included): the encoder and decoder, and for the VAE-GAN
    the discriminator on a real and a generated batch."""
    from poselab.models.complexity import count_macs
    from poselab.studies.lifting.models import Decoder, Discriminator, Encoder

    lift = profile.lifting
    joints = 16
    enc = count_macs(Encoder(joints, lift.hidden, lift.latent, lift.enc_blocks), (joints * 2,))
    dec = count_macs(Decoder(joints, lift.hidden, lift.latent, lift.enc_blocks), (lift.latent,))
    per_sample = enc + dec
    if kind == "vae_gan":
        per_sample += 2 * count_macs(Discriminator(joints, lift.hidden, lift.disc_blocks), (joints * 2,))
    return float(per_sample * lift.batch_size)


def stated_speeds(parts: list[Part], profile, rows=GPU_ROWS) -> dict[str, Speed]:
    """Every part's speed from the stated GPU rows: its own row, else scaled by FLOPs from the 2-stack hourglass row
    at the part's batch (conv nets) or from the HRNet row (the least efficient measured network: lifting's small
    matrix products are as far from the GPU's peak)."""
    from poselab.models import build_model
    from poselab.models.complexity import count_macs

    cache: dict[tuple, float] = {}

    def macs_of(spec: dict, size: int) -> float:
        k = (repr(sorted(spec.items())), size)
        if k not in cache:
            cache[k] = float(count_macs(build_model(spec), (3, size, size)))
        return cache[k]

    hg = profile.hourglass
    hr_row = next(r for r in rows if r.family == "hrnet")
    hr_ref = (hr_row, macs_of(profile.hrnet.spec("as designed"), hr_row.size))
    out = {}
    for p in parts:
        if p.lifting:
            out[p.name] = stated_speed(p, lifting_macs(profile, p.lifting), hr_ref, rows)
            continue
        stacks = p.spec.get("n_stacks")
        batch = p.batch if p.batch > 1 else 32  # PoseIG's path points: as a batch-32 training step
        own = gpu_row(p.family, stacks, p.size, batch, rows)
        if own is not None:
            out[p.name] = Speed(own.value, f"{own.source}: {own.precision}, batch {own.batch}")
            continue
        ref = gpu_row("hourglass", 2, hg.input_size, batch, rows) or gpu_row("hourglass", 2, hg.input_size, 32, rows)
        out[p.name] = stated_speed(Part(p.name, p.family, p.work, p.runs, p.spec, p.size, batch), macs_of(p.spec,
                                   p.size), (ref, macs_of(hg.spec(2), ref.size)), rows)
    return out
