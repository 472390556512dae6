"""The lifting experiment (notebook 07): the VAE-GAN and its supervised baseline (``train.train_both``), scored on
the test subjects with zero-variance (ZV) and best-of-k (BH) decoding, named as every table of the notebook names
them; and the test sequences that the findings' intervals resample."""

from __future__ import annotations

import numpy as np

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


def sequences(test: LiftingSet) -> np.ndarray:
    """(N,) the sequence of each test pose, numbered 0..S-1: one subject's take (``LiftingSet.subject``, ``.take``)
    seen by every camera.  The poses of a sequence are one motion, frame after frame and view after view, so they are
    correlated and an interval over the test set resamples whole sequences."""
    _, ids = np.unique(np.char.add(np.char.add(test.subject.astype(str), "/"), test.take.astype(str)),
                       return_inverse=True)
    return ids.reshape(-1)
