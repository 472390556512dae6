"""2D pose estimation networks: stacked hourglass, HRNet, SimpleBaseline, integral regression; building them from a
saved spec.  (The lifting study's VAE-GAN networks are its own: ``poselab.studies.lifting.models``.)"""

from __future__ import annotations

from torch import nn

from poselab.models.hourglass import StackedHourglass
from poselab.models.hrnet import HRNet
from poselab.models.integral import IntegralRegression
from poselab.models.simplebaseline import SimpleBaseline

# A run's key hashes the module of its architecture (``poselab.training.code``): editing HRNet retrains no hourglass.
ARCHITECTURES: dict[str, type[nn.Module]] = {
    "hourglass": StackedHourglass,
    "hrnet": HRNet,
    "simplebaseline": SimpleBaseline,
    "integral": IntegralRegression,
}


def _architecture(spec: dict) -> type[nn.Module]:
    try:
        return ARCHITECTURES[spec["arch"]]
    except KeyError:
        raise ValueError(f"unknown architecture {spec['arch']!r}; known: {', '.join(ARCHITECTURES)}") from None


def model_modules(spec: dict) -> tuple[str, ...]:
    """The modules that define the network of ``spec``: its architecture's, and its backbone's when it has one."""
    own = (_architecture(spec).__module__,)
    return own + (model_modules(spec["backbone"]) if isinstance(spec.get("backbone"), dict) else ())


def build_model(spec: dict) -> nn.Module:
    """A network from a spec such as ``{"arch": "hourglass", "n_stacks": 2, "width": 64, ...}``
    (the spec is stored with trained weights so later notebooks can rebuild the model)."""
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in spec.items() if k != "arch"}
    return _architecture(spec)(**kwargs)
