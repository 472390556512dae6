"""The three run profiles, defined once and read by every notebook.

``smoke``   tests and CI: tiny data, all notebooks in a few minutes on 2 CPU cores.
``default`` ``make report`` on a laptop: the embedded synthetic data sized for a CPU.
``full``    paper scale on one GPU: real data sets where present, else large synthetic.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

from poselab.data.synthetic.generate import ImageSetConfig, LiftingSetConfig, SyntheticConfig
from poselab.lifting.config import LiftingConfig


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    budget_minutes: float  # the whole report, on the machine the profile is meant for
    data: SyntheticConfig = field(default_factory=SyntheticConfig)
    lifting: LiftingConfig = field(default_factory=LiftingConfig)  # notebook 07

    def fingerprint(self) -> str:
        """Changes whenever any setting of the profile changes."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke",
        description="tests and CI: a few hundred tiny synthetic samples",
        budget_minutes=5,
        data=SyntheticConfig(
            images=ImageSetConfig(image_size=64, n_train=192, n_val=64),
            lifting=LiftingSetConfig(seconds=4.0, takes=1),
        ),
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
        # Sized by measurement on 2 CPU cores (notebook 07 within 10 minutes).
        lifting=LiftingConfig(hidden=256, latent=51, epochs=20, supervised_epochs=20, beta_warmup=0.5,
                              beta_period=2.0, beta_hold=0.5),
    ),
    "full": Profile(
        name="full",
        description="paper scale on one GPU: real data where present, else large synthetic sets",
        budget_minutes=24 * 60,
        data=SyntheticConfig(
            images=ImageSetConfig(image_size=256, n_train=24000, n_val=2400),
            lifting=LiftingSetConfig(seconds=60.0, takes=2),
        ),
        lifting=LiftingConfig(hidden=1024, latent=51, epochs=400, supervised_epochs=400, use_real=True),
    ),
}


def get_profile(name: str | Profile) -> Profile:
    """The profile called ``name``; an unknown name is an error that lists the known ones."""
    if isinstance(name, Profile):
        return name
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; choose one of: {', '.join(PROFILES)}") from None
