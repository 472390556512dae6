"""A study's findings: one row per claim of a source document, with our number and its 95 % interval, the test that
decides it and the verdict.

A verdict is a statistical statement (``decide``): a claim is supported when the interval of the quantity it is about
lies wholly on the claim's side of its threshold, not supported when it lies wholly on the other side, and "not
resolved" when it straddles the threshold: another seed or another sample of people could then reverse it, and the
finding says what would resolve it (``Finding.resolve``).  A claim about every member of a group (every model, every
mask) combines its members' verdicts (``every``).  The intervals come from ``poselab.evaluation.stats`` (Student's t
over training seeds, or SciPy's bootstrap over people, poses or samples).

Each claim is decided by a small tested function of its study's ``tables`` module, called in the cell that makes the
claim's table; the notebook shows the verdict below that table (``Context.verdict``) and its closing list gathers them;
the HTML index opens with the ledger of every notebook's findings."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace

SUPPORTS, PARTLY, DOES_NOT, UNRESOLVED = "supports", "partly supports", "does not support", "not resolved"
VERDICTS = (SUPPORTS, PARTLY, DOES_NOT, UNRESOLVED)
LEVEL = 0.95  # every interval of the report


@dataclass(frozen=True)
class Interval:
    """An estimate and its ``LEVEL`` interval, and how the interval was obtained (``method``: "Student's t over 3
    seeds", "bootstrap over 24 people, 2000 resamples")."""

    estimate: float
    low: float
    high: float
    method: str

    def text(self, fmt: str = "{:.3f}") -> str:
        """"0.123 [0.101, 0.145]" (the bounds "n/a" where there is no interval)."""
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            return f"{fmt.format(self.estimate)} [no interval: {self.method}]"
        return f"{fmt.format(self.estimate)} [{fmt.format(self.low)}, {fmt.format(self.high)}]"

    def side(self, threshold: float = 0.0) -> int:
        """+1 when the whole interval lies above ``threshold``, -1 when below, 0 when it straddles it (or is
        undefined)."""
        if math.isfinite(self.low) and self.low > threshold:
            return 1
        if math.isfinite(self.high) and self.high < threshold:
            return -1
        return 0


def decide(interval: Interval, threshold: float = 0.0, above: bool = True, tie: float = 0.0) -> str:
    """The verdict on "the quantity is above ``threshold``" (``above``) or "below it": supports when the whole
    interval is on the claim's side, does not support when it is wholly on the other, else not resolved.  ``tie``:
    a bound closer than this to the threshold counts as touching it (one unit of the last digit a table shows), so
    that a claim rounding could flip (AVX2 and AVX-512 kernels sum in different orders) is not resolved."""
    widened = replace(interval, low=interval.low - tie, high=interval.high + tie)
    side = widened.side(threshold) * (1 if above else -1)
    return SUPPORTS if side > 0 else DOES_NOT if side < 0 else UNRESOLVED


def agree(verdicts: Iterable[str]) -> str:
    """The verdict of replicates of one experiment (training seeds, sample sets): theirs when every replicate gives
    the same one, else not resolved (another replicate could go either way)."""
    verdicts = set(verdicts)
    return verdicts.pop() if len(verdicts) == 1 else UNRESOLVED


def every(verdicts: Iterable[str]) -> str:
    """The verdict on "the claim holds for every member" from each member's verdict: supports when every member
    supports it; when some member resolves against it, partly supports if another supports it, else does not
    support; otherwise (members unresolved, none against) not resolved."""
    verdicts = list(verdicts)
    if verdicts and all(v == SUPPORTS for v in verdicts):
        return SUPPORTS
    if any(v in (DOES_NOT, PARTLY) for v in verdicts):
        return PARTLY if any(v in (SUPPORTS, PARTLY) for v in verdicts) else DOES_NOT
    return UNRESOLVED


@dataclass(frozen=True)
class Finding:
    claim: str  # what the source says, in a few words
    source: str  # who claims it, by author and year (``poselab.references.cite``): "He et al. 2023, suppl. Table B"
    published: str  # the source's own number, or "" when it gives none
    ours: str  # our number, with its spread where there is one
    verdict: str  # one of VERDICTS
    test: str  # how the verdict is decided: the threshold or the statistical test
    note: str = ""  # context for the notebook's text (not in the ledger): what else the numbers show
    resolve: str = ""  # for a verdict "not resolved": what would resolve it (more seeds, more people, real data)

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict {self.verdict!r} is not one of {VERDICTS}")
        if self.verdict == UNRESOLVED and not self.resolve:
            raise ValueError(f"{self.claim!r} is not resolved: say what would resolve it (resolve=...)")


def not_resolved(findings: Iterable[Finding], why: str, resolve: str) -> list[Finding]:
    """The findings with every verdict "not resolved" because of ``why`` (e.g. a checkpoint that fails its accuracy
    gate), the test that would have decided it kept, and what would resolve it."""
    return [replace(f, verdict=UNRESOLVED, test=f"{f.test}; not resolved: {why}", resolve=resolve) for f in findings]


def markdown(findings: Iterable[Finding]) -> str:
    """The findings as a Markdown list: claim, the source's number, ours, the verdict and its test."""
    lines = []
    for f in findings:
        theirs = f" {f.source}: {f.published}." if f.published else f" ({f.source})"
        note = f" {f.note}" if f.note else ""
        resolve = f" What would resolve it: {f.resolve}." if f.verdict == UNRESOLVED else ""
        verdict = ("The evidence does **not resolve** the claim" if f.verdict == UNRESOLVED else
                   f"This **{f.verdict}** the claim")
        lines.append(f"* **{f.claim}**{theirs} Ours: {f.ours}. {verdict} (test: {f.test}).{resolve}{note}")
    return "\n".join(lines)


