"""Settings of the lifting study (notebook 07), one :class:`LiftingConfig` per profile (``Profile.lifting``).

Defaults are the thesis's (chapter 4 and Appendix A): 1024 hidden units, 51 latent dimensions,
one residual block in the encoder and decoder, two in the discriminator, batch 256, Adam 2e-4,
lambda = (1, 0.001, 0.001), ~400 epochs with a 10-epoch beta warm-up and 40-epoch beta cycles
that hold beta at its top value for their last 10 epochs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

from poselab.checks import require, whole


@dataclass(frozen=True)
class LiftingConfig:
    # Architecture (Appendix A).
    hidden: int = 1024  # h: width of every hidden layer
    latent: int = 51  # d: latent dimensions
    enc_blocks: int = 1  # n for the encoder and the decoder
    disc_blocks: int = 2  # n for the discriminator
    # Data (Protocol #1 split and frame sampling).
    train_stride: int = 5  # every 5th frame of the training subjects
    test_stride: int = 64  # every 64th frame of the test subjects
    flip_p: float = 0.5  # horizontal flip with left/right swap
    use_real: bool = False  # Human3.6M when data/h36m holds it (full profile)
    # Training poses whose normalised 2D joints lie farther than this from the root are left out:
    # a torso pointing at the camera has a tiny 2D root-head length, and dividing by it blows the
    # pose up (seed Fig. 4.2.2b); such outliers wreck the batch statistics.  Test poses are all kept.
    max_input_radius: float = 3.0
    # Reprojection and novel views (section 2.1.3).
    depth: float = 10.0  # c: distance of the pose from the camera, in root-head units
    scale: float = 1.3  # lower/upper body length ratio applied to the Tanh output
    max_elevation_deg: float = 20.0  # elevation in [-pi/9, pi/9]
    normalize_novel: bool = True  # novel views go through the same root-head normalisation as real 2D
    # Losses and optimisation (chapter 4).
    lambda_recon: float = 1.0
    lambda_kl: float = 0.001
    lambda_adv: float = 0.001
    real_label: tuple[float, float] = (0.7, 1.2)  # one-sided label smoothing
    lr: float = 2e-4
    clip_d: float = 1.0  # discriminator gradient-norm clip
    clip_g: float = 2.0  # generator gradient-norm clip
    clip_g_value: float = 1000.0  # generator gradient-value clip
    batch_size: int = 256
    epochs: float = 400.0
    beta_warmup: float = 10.0  # epochs of linear warm-up at the start
    beta_period: float = 40.0  # epochs per beta cycle after the warm-up
    beta_hold: float = 10.0  # last epochs of each cycle spent at the top value
    supervised_epochs: float = 400.0
    # Evaluation.
    hypotheses: int = 10  # BH: best of this many samples
    eval_every: float = 1.0  # epochs between validation passes for the training curves
    embedding_samples: int = 2000  # test poses embedded in F07.3
    seed: int = 0
    # Torch threads while training on the CPU: on a shared 2-core machine two OpenMP threads
    # spin against other processes and run ~8x slower than one (measured); 0 keeps torch's default.
    cpu_threads: int = 1
    max_steps: int | None = None  # stop each run after this many iterations (LIMIT_STEPS; None: the full schedule)

    KNOBS: ClassVar[dict[str, str]] = {"embedding_samples": "embedded"}  # notebook 07's knob of this setting

    def __post_init__(self):
        for name in ("hypotheses", "embedding_samples", "batch_size", "hidden", "latent"):
            require(self, name, whole(getattr(self, name), 1), "a whole number >= 1")


# Settings that only change how the trained models are evaluated or shown, not what they are: left out of the key.
EVALUATION_ONLY = ("hypotheses", "embedding_samples")


def key_settings(cfg: LiftingConfig) -> dict:
    """The settings that determine a trained lifting run (what its key hashes)."""
    return {k: v for k, v in asdict(cfg).items() if k not in EVALUATION_ONLY}
