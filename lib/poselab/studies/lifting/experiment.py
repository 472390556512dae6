"""The lifting experiment (notebook 07): the VAE-GAN and its supervised baseline (``train.train_both``), scored on
the test subjects with zero-variance (ZV) and best-of-k (BH) decoding, named as every table of the notebook names
them."""

from __future__ import annotations

from poselab.studies.lifting.data import LiftingSet
from poselab.studies.lifting.metrics import LiftingEvaluation, evaluate_lifting
from poselab.studies.lifting.settings import LiftingConfig
from poselab.studies.lifting.train import LiftingRun

VAE_GAN, SUPERVISED = "vae-gan", "supervised"


def evaluate_models(gan: LiftingRun, supervised: LiftingRun, test: LiftingSet, cfg: LiftingConfig, seed: int = 0,
                    device: str = "cpu") -> dict[str, LiftingEvaluation]:
    """Both models' errors on ``test`` (BH with ``cfg.hypotheses`` latent samples drawn with ``seed``)."""
    return {name: evaluate_lifting(run.encoder, run.decoder, test, name, cfg.hypotheses, cfg.scale, seed, device)
            for name, run in ((VAE_GAN, gan), (SUPERVISED, supervised))}


def unaligned_errors(evaluations: dict[str, LiftingEvaluation]) -> dict[str, float]:
    """Mean MPJPE (no Procrustes alignment) per model, for the findings' note."""
    return {name: float(ev.mpjpe.mean()) for name, ev in evaluations.items()}
