"""A study's findings: one row per claim of a source document, with our number, its spread, the test that decides
it and the verdict.  Each study's ``findings(...)`` returns them (tested, so that no verdict is decided by code in a
notebook); the notebook records them with ``ctx.findings(...)`` and prints ``markdown(...)``; the HTML index opens with
the ledger of every notebook's findings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import pandas as pd

SUPPORTS, PARTLY, DOES_NOT, UNRESOLVED = "supports", "partly supports", "does not support", "not resolved"
VERDICTS = (SUPPORTS, PARTLY, DOES_NOT, UNRESOLVED)


@dataclass(frozen=True)
class Finding:
    claim: str  # what the source says, in a few words
    source: str  # who claims it, by author and year (``poselab.references.cite``): "He et al. 2023, suppl. Table B"
    published: str  # the source's own number, or "" when it gives none
    ours: str  # our number, with its spread where there is one
    verdict: str  # one of VERDICTS
    test: str  # how the verdict is decided: the threshold or the statistical test
    note: str = ""  # context for the notebook's text (not in the ledger): what else the numbers show

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict {self.verdict!r} is not one of {VERDICTS}")


def verdict(ok: bool, partly: bool = False) -> str:
    return SUPPORTS if ok else PARTLY if partly else DOES_NOT


def markdown(findings: Iterable[Finding]) -> str:
    """The findings as a Markdown list: claim, the source's number, ours, the verdict and its test."""
    lines = []
    for f in findings:
        theirs = f" {f.source}: {f.published}." if f.published else f" ({f.source})"
        note = f" {f.note}" if f.note else ""
        lines.append(f"* **{f.claim}**{theirs} Ours: {f.ours}. This **{f.verdict}** the claim (test: {f.test}).{note}")
    return "\n".join(lines)


def table(findings: Iterable[Finding]) -> pd.DataFrame:
    """The findings as a table, one row per claim (the notebook shows it; the ledger keeps the same columns)."""
    return pd.DataFrame([asdict(f) for f in findings]).drop(columns="note")
