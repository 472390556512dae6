"""Checking a setting's value where it enters: every study's settings call ``require`` in their ``__post_init__``, so
a profile and a notebook's knobs (``poselab.report.notebook.with_knobs``) are checked alike, each problem one line
naming the knob, its value and what is allowed."""

from __future__ import annotations


def whole(value, low: int = 0) -> bool:
    """Whether ``value`` is a whole number (not a bool) of at least ``low``."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def require(settings, name: str, ok: bool, allowed: str) -> None:
    """``ValueError`` unless ``ok``: the setting ``name`` of ``settings`` by the notebook knob that sets it (where the
    settings' ``KNOBS`` give one), its value, the setting itself, and what is ``allowed``."""
    if not ok:
        knob = getattr(settings, "KNOBS", {}).get(name, name)
        raise ValueError(f"{knob}={getattr(settings, name)!r} ({type(settings).__name__}.{name}): must be {allowed}")
