"""The three run profiles, defined once and read by every notebook.

``smoke``   tests and CI: tiny data, all notebooks in a few minutes on 2 CPU cores.
``default`` ``make report`` on a laptop: the embedded synthetic data sized for a CPU.
``full``    paper scale on one GPU: real data sets where present, else large synthetic.
``check-full``  ``make check-full``: every size of ``full`` with its counts capped (``capped``), so that the paper-scale
            code path runs through papermill on a 2-core CPU in minutes; its numbers exercise code, they are not
            results.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace

from poselab.data.synthetic.config import ImageSetConfig, LiftingSetConfig, SyntheticConfig
from poselab.studies.hourglass.settings import HourglassStudy
from poselab.studies.hrnet.settings import HRNetStudy
from poselab.studies.latent.settings import LatentStudy
from poselab.studies.lifting.settings import LiftingConfig
from poselab.studies.poseig.settings import PoseIGStudy, SimpleBaselineStudy
from poselab.studies.skips.settings import SkipStudy
from poselab.training.config import TrainConfig

# what a profile says about itself: no number depends on it
NOT_RESULTS = ("description", "budget_minutes", "code_check")


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    budget_minutes: float  # the whole report, on the machine the profile is meant for
    data: SyntheticConfig = field(default_factory=SyntheticConfig)
    hourglass: HourglassStudy = field(default_factory=HourglassStudy)  # notebook 02 (its main model: 03-05)
    skips: SkipStudy = field(default_factory=SkipStudy)  # notebook 03
    latent: LatentStudy = field(default_factory=LatentStudy)  # notebook 04
    poseig: PoseIGStudy = field(default_factory=PoseIGStudy)  # notebook 05
    hrnet: HRNetStudy = field(default_factory=HRNetStudy)  # notebook 06
    lifting: LiftingConfig = field(default_factory=LiftingConfig)  # notebook 07
    code_check: bool = False  # counts capped (``check-full``): every page says its numbers are not results

    def fingerprint(self) -> str:
        """Changes whenever a setting that changes results changes (not the description or the budget)."""
        settings = {k: v for k, v in asdict(self).items() if k not in NOT_RESULTS}
        return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke",
        description="tests and CI: a few hundred tiny synthetic samples",
        budget_minutes=5,
        data=SyntheticConfig(
            images=ImageSetConfig(image_size=64, n_train=192, n_val=64),
            lifting=LiftingSetConfig(seconds=4.0, takes=1),
        ),
        hourglass=HourglassStudy(input_size=32, width=16, stem=(8, 16), depth=1, stacks=(1, 2), seeds=(0, 1),
                                 main_stacks=2, qualitative=4,
                                 train=TrainConfig(epochs=2, batch_size=16, lr=1e-3, optimizer="rmsprop",
                                                   channels_last=True)),
        skips=SkipStudy(samples=96, reference_samples=4),
        latent=LatentStudy(samples=96, ks=(2, 4), restarts=2, thumbnails=8, closest=2, reference_samples=8),
        poseig=PoseIGStudy(images=4, steps=4, randomization_steps=5, randomization_images=2, integral_samples=None,
                           coco_images=2, coco_size=(128, 96), coco_ap_images=None,  # the checkpoints at half size
                           integral_train=TrainConfig(epochs=1, batch_size=16, lr=2.5e-4, optimizer="adam",
                                                      channels_last=True, loss="integral"),
                           simplebaseline=SimpleBaselineStudy(input_size=32, layers=(1, 1, 1, 1), width=8,
                                                              deconv=(16, 16, 16),
                                                              train=TrainConfig(epochs=1, batch_size=16, lr=1e-3,
                                                                                optimizer="adam", channels_last=True))),
        hrnet=HRNetStudy(input_size=32, width=8, stem_width=16, blocks=(1, 1, 1, 1), modules=(1, 1, 1),
                         train=TrainConfig(epochs=2, batch_size=16, lr=1e-3, optimizer="adam", channels_last=True),
                         seeds=(0, 1)),
        lifting=LiftingConfig(hidden=64, latent=16, epochs=2, supervised_epochs=2, beta_warmup=0.05,
                              beta_period=0.2, beta_hold=0.05, embedding_samples=256),
    ),
    "default": Profile(
        name="default",
        description="make report on 2 CPU cores: the embedded synthetic data set",
        budget_minutes=60,
        data=SyntheticConfig(
            images=ImageSetConfig(image_size=128, n_train=8000, n_val=1000),
            lifting=LiftingSetConfig(seconds=20.0, takes=2),
        ),
        # Sized by measurement on 2 CPU cores, AVX2 only: 64x64 input with the paper's 4x4 bottleneck at a quarter
        # of its width, float32 (every CPU runs it natively) + channels_last, 3 seeds per variant trained side by
        # side in single-thread processes; RMSprop at the source's own 1e-3.  Width 64 at 64x64 beat width 32 at
        # 96x96 for the same time (PCKh 0.66 / 0.71 vs 0.59 / 0.61 after 8 epochs, 1 / 2 stacks).
        hourglass=HourglassStudy(input_size=64, width=64, stem=(32, 64), depth=2, stacks=(1, 2), seeds=(0, 1, 2),
                                 main_stacks=2, train=TrainConfig(epochs=6, batch_size=16, lr=1e-3, optimizer="rmsprop",
                                                                  lr_milestones=(5,), channels_last=True)),
        skips=SkipStudy(samples=1500),
        latent=LatentStudy(samples=5000, restarts=10),
        # Sized by measurement on 2 CPU cores (notebook 05 within 8 minutes with AVX2 only): 6 models x 24 people,
        # 20 blur steps; the integral model fine-tunes hourglass-1 for one epoch on 4,000 images (fp32).
        poseig=PoseIGStudy(images=24, steps=20, randomization_steps=6, randomization_images=5),
        # 3 experiments x 3 seeds of a narrow HRNet at 64x64 for Henderson and Houser's 9 epochs, in two processes
        # (float32).
        hrnet=HRNetStudy(input_size=64, width=16, stem_width=16, blocks=(1, 1, 1, 1), modules=(1, 1, 1),
                         train=TrainConfig(epochs=9, batch_size=16, lr=1e-3, optimizer="adam", channels_last=True),
                         seeds=(0, 1, 2), train_samples=4000),
        # Sized by measurement on 2 CPU cores (notebook 07 within 10 minutes).
        lifting=LiftingConfig(hidden=256, latent=51, epochs=20, supervised_epochs=20, beta_warmup=0.5,
                              beta_period=2.0, beta_hold=0.5),
    ),
    "full": Profile(
        name="full",
        description="paper scale on one GPU: real data where present, else large synthetic sets",
        budget_minutes=3 * 60,
        data=SyntheticConfig(
            images=ImageSetConfig(image_size=256, n_train=24000, n_val=2400),
            lifting=LiftingSetConfig(seconds=60.0, takes=2),
        ),
        # The paper's network: 256x256 input, 256 channels, 4x4 bottleneck, 2 vs 8 stacks.  The schedule is cut to fit
        # one GPU in 3 hours: 20 epochs instead of Newell et al.'s ~100, at batch 64 in bfloat16 + channels_last on
        # the GPU (961 against 705 img/s in float32 on an H100, 2026-11-22; float32 on a CPU) and 1e-3 (Newell's
        # 2.5e-4 at batch 16, scaled linearly; Bhansali's own rate), divided by 10 after epoch 15; one seed per stack
        # count (each further seed costs 0.7 h).
        hourglass=HourglassStudy(input_size=256, width=256, stem=(64, 128), depth=4, stacks=(2, 8), main_stacks=2,
                                 train=TrainConfig(epochs=20, batch_size=64, lr=1e-3, optimizer="rmsprop",
                                                   lr_milestones=(15,), num_workers=8, bf16=True, channels_last=True),
                                 use_real=True),
        skips=SkipStudy(samples=10000, reference_samples=2000),
        latent=LatentStudy(samples=10000, restarts=10, reference_samples=10000),
        # The authors' 50-step blur path; SimpleBaseline-ResNet50 as their main model.
        poseig=PoseIGStudy(images=200, steps=50, rule="left", randomization_images=32, integral_from="hourglass-2",
                           integral_samples=None, main="simplebaseline",
                           integral_train=TrainConfig(epochs=10, batch_size=32, lr=2.5e-4, optimizer="adam",
                                                      num_workers=8, loss="integral"),
                           simplebaseline=SimpleBaselineStudy(train=TrainConfig(epochs=20, batch_size=32, lr=1e-3,
                                                                                optimizer="adam", lr_milestones=(15,),
                                                                                num_workers=8))),
        # Official W32 at 256x256 with Adam 1e-3 (w32_256x256_adam_lr1e-3), for Henderson and Houser's 9 epochs; one
        # seed (as theirs): three seeds of the three experiments would take 2.8 h of the 3 on one H100.
        hrnet=HRNetStudy(train=TrainConfig(epochs=9, batch_size=32, lr=1e-3, optimizer="adam", num_workers=8),
                         seeds=(0,), use_real=True),
        lifting=LiftingConfig(hidden=1024, latent=51, epochs=400, supervised_epochs=400, use_real=True),
    ),
}


# What ``capped`` changes: counts only, every one named here with its capped value (a test checks that every other
# setting, every size among them, equals the profile's).  PoseIG's path steps are capped too: on a 2-core CPU one
# person's 16 joints through the 256x256 models at 4 steps took over 8 minutes of the 20.
CAPS = {
    "data.images.n_train": 48, "data.images.n_val": 16,  # synthetic images generated (256x256 kept)
    "data.lifting.seconds": 2.0, "data.lifting.takes": 1,  # synthetic motion generated
    "hourglass.train": {"epochs": 1, "batch_size": 2, "num_workers": 1, "max_steps": 2},
    "hourglass.qualitative": 2,
    "skips.samples": 8, "skips.shown": 4, "skips.reference_samples": 4, "latent.reference_samples": 12,
    "latent.samples": 40, "latent.restarts": 2, "latent.thumbnails": 8, "latent.closest": 1,
    # PoseIG: one person, 2 path steps, and three models of the seven (one of each kind: heatmaps, integral
    # regression, SimpleBaseline, the main one); every joint's attribution costs a backward pass per path point.
    "poseig.images": 1, "poseig.steps": 2, "poseig.randomization_steps": 2, "poseig.randomization_images": 1,
    "poseig.models": ("hourglass-2", "integral (hourglass-2)", "simplebaseline"),
    "poseig.integral_samples": 16,
    "poseig.coco_images": 1, "poseig.coco_ap_images": 4,  # COCO people attributed and scored (256x192 crops kept)
    "poseig.integral_train": {"epochs": 1, "batch_size": 2, "num_workers": 1, "max_steps": 2},
    "poseig.simplebaseline.train": {"epochs": 1, "batch_size": 2, "num_workers": 1, "max_steps": 2},
    "hrnet.train": {"epochs": 1, "batch_size": 2, "num_workers": 1, "max_steps": 2},
    "hrnet.train_samples": 16, "hrnet.val_samples": 8,
    "lifting.max_steps": 3, "lifting.embedding_samples": 64,
}


def _replace_path(obj, path: list[str], value):
    """``obj`` (nested frozen dataclasses) with the field at ``path`` set to ``value`` (a dict: some of its fields)."""
    head, rest = path[0], path[1:]
    current = getattr(obj, head)
    if rest:
        return replace(obj, **{head: _replace_path(current, rest, value)})
    return replace(obj, **{head: replace(current, **value) if isinstance(value, dict) else value})


def capped(profile: Profile, name: str = "check-full") -> Profile:
    """``profile`` with the counts of ``CAPS`` capped and every size kept: the code path of ``profile`` in minutes."""
    out = replace(profile, name=name, code_check=True, budget_minutes=20,
                  description=f"{profile.name} at full size with capped counts: the numbers exercise code, they are "
                              "not results")
    for dotted, value in CAPS.items():
        out = _replace_path(out, dotted.split("."), value)
    return out


PROFILES["check-full"] = capped(PROFILES["full"])


def get_profile(name: str | Profile) -> Profile:
    """The profile called ``name``; an unknown name is an error that lists the known ones."""
    if isinstance(name, Profile):
        return name
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; choose one of: {', '.join(PROFILES)}") from None
