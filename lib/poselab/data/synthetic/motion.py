"""Action families as smooth, continuous-time motions.

A :class:`Motion` is a base pose plus a sum of periodic terms, so it can be evaluated at
any times ``t`` (seconds) without simulating a whole sequence.  Each action family is a
function that draws one motion's parameters from a random generator; every motion also
carries low-frequency noise on every DOF so no two sequences are alike.  Angles are
clipped to the skeleton's joint limits after evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from poselab.data.synthetic.skeleton import DOF_INDEX, N_DOFS, clip_to_limits

ROOT_INDEX = {"root_yaw": 0, "root_pitch": 1, "root_roll": 2}
WAVES = ("sin", "pulse")  # "pulse": a sharp one-sided sin^3 bump (punches)


@dataclass
class Motion:
    """base + sum_k amp_k * wave_k(2 pi f_k t + phase_k) per DOF, in degrees."""

    action: str
    base: np.ndarray = field(default_factory=lambda: np.zeros(N_DOFS))
    root_base: np.ndarray = field(default_factory=lambda: np.zeros(3))
    terms: list = field(default_factory=list)  # (target, index, amp, freq, phase, wave)

    def set(self, name: str, value: float) -> None:
        if name in ROOT_INDEX:
            self.root_base[ROOT_INDEX[name]] = value
        else:
            self.base[DOF_INDEX[name]] = value

    def add(self, name: str, amp: float, freq: float, phase: float = 0.0, wave: str = "sin"):
        if wave not in WAVES:
            raise ValueError(f"wave must be one of {WAVES}, not {wave!r}")
        target, index = ("root", ROOT_INDEX[name]) if name in ROOT_INDEX else ("dof", DOF_INDEX[name])
        self.terms.append((target, index, amp, freq, phase, wave))

    def __call__(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Angles at times t (T,) seconds -> (T, N_DOFS) and root (T, 3), degrees, clipped."""
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        target, index, amp, freq, phase, wave = (np.array(c) for c in zip(*self.terms, strict=True))
        x = 2 * np.pi * freq * t[:, None] + phase  # (T, terms)
        value = amp * np.where(wave == "pulse", np.maximum(np.sin(x), 0.0) ** 3, np.sin(x))
        # Accumulate every term into one (T, N_DOFS + 3) array: DOFs first, then the root.
        column = np.where(target == "root", N_DOFS + index, index)
        out = np.zeros((N_DOFS + 3, t.size))
        np.add.at(out, column, value.T)
        angles = self.base + out[:N_DOFS].T
        root = self.root_base + out[N_DOFS:].T
        return clip_to_limits(angles, root)


def _both(m: Motion, dof: str, value: float) -> None:
    m.set(f"l_{dof}", value)
    m.set(f"r_{dof}", value)


def _relaxed(m: Motion, rng: np.random.Generator) -> None:
    """A neutral standing pose with the arms hanging slightly away from the body."""
    _both(m, "shoulder_abd", rng.uniform(5, 14))
    _both(m, "elbow_flex", rng.uniform(5, 20))
    _both(m, "knee_flex", rng.uniform(0, 6))
    _both(m, "shoulder_twist", rng.uniform(-10, 10))


def _head_movement(m: Motion, rng: np.random.Generator, scale: float = 1.0) -> None:
    m.add("neck_twist", scale * rng.uniform(5, 35), rng.uniform(0.05, 0.25), rng.uniform(0, 6.3))
    m.add("neck_flex", scale * rng.uniform(3, 12), rng.uniform(0.05, 0.3), rng.uniform(0, 6.3))


def standing(m: Motion, rng: np.random.Generator) -> None:
    _relaxed(m, rng)
    f = rng.uniform(0.1, 0.3)
    m.add("root_roll", rng.uniform(1, 3), f)
    m.add("l_hip_abd", rng.uniform(2, 5), f, np.pi)
    m.add("r_hip_abd", rng.uniform(2, 5), f)
    m.add("l_knee_flex", rng.uniform(2, 8), f, np.pi / 2)
    m.add("r_knee_flex", rng.uniform(2, 8), f, -np.pi / 2)
    for side in "lr":
        if rng.random() < 0.3:  # hand on hip
            m.set(f"{side}_shoulder_abd", rng.uniform(30, 45))
            m.set(f"{side}_elbow_flex", rng.uniform(90, 115))
            m.set(f"{side}_shoulder_twist", rng.uniform(-60, -35))
        else:  # talking with the hands
            m.add(f"{side}_shoulder_flex", rng.uniform(5, 25), rng.uniform(0.2, 0.5), rng.uniform(0, 6.3))
            m.add(f"{side}_elbow_flex", rng.uniform(10, 40), rng.uniform(0.2, 0.6), rng.uniform(0, 6.3))
            m.set(f"{side}_elbow_flex", rng.uniform(20, 50))
    _head_movement(m, rng)


def walking(m: Motion, rng: np.random.Generator) -> None:
    _relaxed(m, rng)
    f = rng.uniform(0.8, 1.05)  # gait cycles per second
    hip, knee, arm = rng.uniform(18, 30), rng.uniform(22, 32), rng.uniform(12, 28)
    for side, phase in (("l", 0.0), ("r", np.pi)):
        m.set(f"{side}_hip_flex", rng.uniform(3, 8))
        m.add(f"{side}_hip_flex", hip, f, phase)
        m.set(f"{side}_knee_flex", knee + 4)
        m.add(f"{side}_knee_flex", knee, f, phase + np.pi / 2 + 0.3)
        m.add(f"{side}_ankle_flex", rng.uniform(6, 14), f, phase + np.pi)
        m.set(f"{side}_shoulder_flex", rng.uniform(0, 6))
        m.add(f"{side}_shoulder_flex", arm, f, phase + np.pi)  # arms swing against the legs
        m.set(f"{side}_elbow_flex", rng.uniform(15, 35))
        m.add(f"{side}_elbow_flex", rng.uniform(5, 15), f, phase + np.pi)
    m.add("spine_twist", rng.uniform(3, 8), f)
    m.add("thorax_twist", rng.uniform(3, 8), f, np.pi)
    m.add("root_roll", rng.uniform(1, 4), f)
    m.set("root_pitch", rng.uniform(0, 8))
    _head_movement(m, rng, 0.5)


def sitting(m: Motion, rng: np.random.Generator) -> None:
    _relaxed(m, rng)
    m.set("root_pitch", rng.uniform(-12, 8))
    m.set("spine_flex", rng.uniform(0, 25))
    for side in "lr":
        m.set(f"{side}_hip_flex", rng.uniform(80, 100))
        m.set(f"{side}_knee_flex", rng.uniform(75, 110))
        m.set(f"{side}_hip_abd", rng.uniform(3, 18))
        m.set(f"{side}_shoulder_flex", rng.uniform(20, 45))
        m.set(f"{side}_elbow_flex", rng.uniform(45, 90))
    gesturing = "lr"[rng.integers(2)]
    m.add(f"{gesturing}_shoulder_flex", rng.uniform(10, 35), rng.uniform(0.15, 0.4), rng.uniform(0, 6.3))
    m.add(f"{gesturing}_elbow_flex", rng.uniform(15, 40), rng.uniform(0.15, 0.5), rng.uniform(0, 6.3))
    m.add("spine_flex", rng.uniform(3, 10), rng.uniform(0.05, 0.2), rng.uniform(0, 6.3))
    _head_movement(m, rng)


def reaching(m: Motion, rng: np.random.Generator) -> None:
    _relaxed(m, rng)
    f = rng.uniform(0.15, 0.45)
    sides = ("l", "r", "lr")[rng.integers(3)]
    for side in sides:
        top = rng.uniform(90, 165)
        m.set(f"{side}_shoulder_flex", (top + 20) / 2)
        m.add(f"{side}_shoulder_flex", (top - 20) / 2, f, -np.pi / 2)
        m.set(f"{side}_shoulder_abd", rng.uniform(0, 60))
        m.set(f"{side}_elbow_flex", 40)
        m.add(f"{side}_elbow_flex", 35, f, np.pi / 2)  # the arm straightens as it rises
        m.add(f"{side}_wrist_flex", rng.uniform(10, 30), f, rng.uniform(0, 6.3))
    lean = 1.0 if sides == "l" else -1.0 if sides == "r" else 0.0
    m.add("spine_lat", lean * rng.uniform(4, 12), f, -np.pi / 2)
    m.add("spine_flex", rng.uniform(3, 12), f, -np.pi / 2)
    m.add("l_ankle_flex", rng.uniform(0, 15), f, -np.pi / 2)  # on tiptoe at the top
    m.add("r_ankle_flex", rng.uniform(0, 15), f, -np.pi / 2)
    m.set("neck_flex", -rng.uniform(0, 25))


def arms_raised(m: Motion, rng: np.random.Generator) -> None:
    _relaxed(m, rng)
    f = rng.uniform(0.6, 1.6)
    overhead = rng.random() < 0.5
    for side, phase in (("l", 0.0), ("r", rng.uniform(0, np.pi))):
        if overhead:
            m.set(f"{side}_shoulder_flex", rng.uniform(140, 172))
            m.set(f"{side}_shoulder_abd", rng.uniform(5, 35))
        else:
            m.set(f"{side}_shoulder_abd", rng.uniform(125, 170))
        m.set(f"{side}_elbow_flex", rng.uniform(10, 45))
        m.add(f"{side}_elbow_flex", rng.uniform(10, 30), f, phase)  # waving
        m.add(f"{side}_shoulder_abd", rng.uniform(5, 18), f, phase + 1.0)
    m.set("neck_flex", -rng.uniform(5, 30))
    m.add("root_roll", rng.uniform(1, 4), f / 2)
    _head_movement(m, rng, 0.4)


def bending(m: Motion, rng: np.random.Generator) -> None:
    _relaxed(m, rng)
    f = rng.uniform(0.1, 0.35)
    bend, amp = rng.uniform(35, 65), rng.uniform(8, 22)
    # The trunk pitches forward at the hips; hip flexion by the same angle keeps the legs upright.
    m.set("root_pitch", bend)
    m.add("root_pitch", amp, f)
    knee = rng.uniform(3, 30)
    for side in "lr":
        m.set(f"{side}_hip_flex", bend - knee / 2)
        m.add(f"{side}_hip_flex", amp, f)
        m.set(f"{side}_knee_flex", knee)
        m.set(f"{side}_ankle_flex", -knee / 2)
        m.set(f"{side}_shoulder_flex", bend + rng.uniform(-10, 25))  # arms hang towards the floor
        m.add(f"{side}_shoulder_flex", amp, f)
    m.set("spine_flex", rng.uniform(5, 25))
    m.set("neck_flex", -rng.uniform(15, 40))


def squatting(m: Motion, rng: np.random.Generator) -> None:
    _relaxed(m, rng)
    f = rng.uniform(0.12, 0.35)
    depth = rng.uniform(0.6, 1.0)
    m.set("root_pitch", 18 * depth)
    m.add("root_pitch", 18 * depth, f, -np.pi / 2)
    for side in "lr":
        m.set(f"{side}_knee_flex", 5 + 60 * depth)
        m.add(f"{side}_knee_flex", 60 * depth, f, -np.pi / 2)
        m.set(f"{side}_hip_flex", 5 + 50 * depth)
        m.add(f"{side}_hip_flex", 50 * depth, f, -np.pi / 2)
        m.set(f"{side}_ankle_flex", -12 * depth)
        m.add(f"{side}_ankle_flex", -12 * depth, f, -np.pi / 2)
        m.set(f"{side}_hip_abd", rng.uniform(5, 20))
        m.set(f"{side}_shoulder_flex", 50)
        m.add(f"{side}_shoulder_flex", 40, f, -np.pi / 2)  # arms forward for balance
    _head_movement(m, rng, 0.5)


def boxing(m: Motion, rng: np.random.Generator) -> None:
    f = rng.uniform(0.7, 1.4)
    m.set("root_pitch", rng.uniform(5, 15))
    m.set("neck_flex", rng.uniform(0, 15))
    for side, phase in (("l", 0.0), ("r", np.pi)):
        m.set(f"{side}_hip_flex", rng.uniform(10, 25))
        m.set(f"{side}_knee_flex", rng.uniform(15, 30))
        m.set(f"{side}_hip_abd", rng.uniform(5, 15))
        m.set(f"{side}_shoulder_flex", rng.uniform(35, 55))  # guard up
        m.set(f"{side}_shoulder_abd", rng.uniform(10, 30))
        m.set(f"{side}_elbow_flex", rng.uniform(110, 135))
        m.add(f"{side}_elbow_flex", -rng.uniform(90, 115), f, phase, "pulse")  # punch
        m.add(f"{side}_shoulder_flex", rng.uniform(30, 50), f, phase, "pulse")
    m.add("spine_twist", rng.uniform(10, 25), f)
    m.add("root_yaw", rng.uniform(5, 15), f / 3)


ACTIONS: dict[str, Callable[[Motion, np.random.Generator], None]] = {
    "standing": standing,
    "walking": walking,
    "sitting": sitting,
    "reaching": reaching,
    "arms_raised": arms_raised,
    "bending": bending,
    "squatting": squatting,
    "boxing": boxing,
}
ACTION_NAMES: tuple[str, ...] = tuple(ACTIONS)
# The actions in which the whole body moves a lot; the rest are mostly stationary.
DYNAMIC_ACTIONS: frozenset[str] = frozenset({"walking", "reaching", "arms_raised", "squatting", "boxing"})


def sample_motion(action: str, rng: np.random.Generator, noise_deg: float = 4.0) -> Motion:
    """Draw one motion of an action family, with smooth noise on every DOF."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; known: {', '.join(ACTIONS)}")
    m = Motion(action)
    ACTIONS[action](m, rng)
    for name in DOF_INDEX:
        for _ in range(2):
            m.add(name, rng.normal(0, noise_deg / 2), rng.uniform(0.05, 0.6), rng.uniform(0, 6.3))
    m.add("root_yaw", rng.uniform(0, 15), rng.uniform(0.02, 0.1), rng.uniform(0, 6.3))
    return m
