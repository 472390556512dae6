"""Official pretrained checkpoints as declared inputs: the ``checkpoints`` section of ``data_manifest.yaml``.

Each entry names the file (relative to the data directory), where to get it, its licence, the layout of its state
dict (``LAYOUTS``), the network it holds (a ``poselab.models.build_model`` spec) and its input size, the data set it was
trained on, its sha256 where one is published (else ``null`` with a note saying so), the published accuracy to quote
beside ours (text, and ``published_score`` as a number), how its codebase fed it (``feeding``:
``poselab.data.feeding``, each value with the reference code it comes from), and the notebooks that use it.

The accuracy gate: a checkpoint that scores less than ``GATE`` times its published figure on the crops a study uses
was not loaded or fed as it was trained (or is not the published file), so no verdict may rest on it
(``Checkpoint.gate``).  Nothing is downloaded: the model zoos are behind web drives, so the user
places the files; a study uses a checkpoint when its file is present.  Loading is ``poselab.models.pretrained``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from poselab.data.feeding import Feeding, parse
from poselab.data.integrity import file_hash
from poselab.data.manifest import ManifestError, _is_hex, _safe_relative

# How a file stores its weights: "state_dict", a plain state dict (the HRNet repository's model zoo; a
# {"state_dict": ...} training checkpoint and DataParallel prefixes are accepted too); "hourglass_reference", the public
# PyTorch stacked hourglass's training checkpoint ({"state_dict": {"model.module.<key>": ...}, "optimizer": ...}, with
# the unused 1x1 skip layers of its same-width residuals).
LAYOUTS = ("state_dict", "hourglass_reference")
_REQUIRED = {"title", "file", "source", "licence", "layout", "model", "input", "dataset", "sha256", "published",
             "published_score", "feeding", "used_by"}
GATE = 0.8  # a checkpoint scoring under 80 % of its published accuracy fails the gate
_OPTIONAL = {"checksum_note"}


@dataclass(frozen=True)
class Checkpoint:
    name: str
    title: str
    file: str
    source: str
    licence: str
    layout: str
    model: dict
    input: tuple[int, int]  # (height, width)
    dataset: str
    sha256: str | None
    published: str
    published_score: float  # keypoint AP (COCO) or PCKh@0.5 mean (MPII), as a fraction
    feeding: Feeding
    used_by: tuple[str, ...]
    checksum_note: str = ""

    def path(self, data_dir: Path) -> Path:
        return Path(data_dir) / self.file

    def label(self, data_dir: Path) -> str:
        """How the report names a model loaded from it: what it is and where it came from (a file that
        ``poselab.models.pretrained.write_fixture`` wrote says so)."""
        from poselab.data.fixtures import is_fixture

        kind = "fixture: random weights in the official layout" if is_fixture(self.path(data_dir).parent) else \
            "official checkpoint"
        return f"{self.title} ({kind})"

    def gate(self, score: float, metric: str) -> str | None:
        """None when ``score`` (``metric`` on the crops used, a fraction) is at least ``GATE`` of the published
        figure; else why no verdict may rest on this checkpoint."""
        if score >= GATE * self.published_score:
            return None
        return (f"the checkpoint {self.name} scores {metric} {score:.3f} on the crops used against a published "
                f"{self.published_score:.3f} (under {GATE:.0%} of it: loaded or fed otherwise than it was trained, or "
                "not the published weights)")


def _parse(name: str, raw: dict) -> Checkpoint:
    if not isinstance(raw, dict):
        raise ManifestError(name, "checkpoint entry must be a mapping", "see the other checkpoint entries")
    unknown, missing = set(raw) - _REQUIRED - _OPTIONAL, _REQUIRED - set(raw)
    if unknown or missing:
        raise ManifestError(name, f"checkpoint entry: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}",
                            f"allowed: {sorted(_REQUIRED | _OPTIONAL)}")
    if raw["layout"] not in LAYOUTS:
        raise ManifestError(name, f"layout {raw['layout']!r} is not one of {LAYOUTS}", "fix the layout")
    if not isinstance(raw["model"], dict) or "arch" not in raw["model"]:
        raise ManifestError(name, "'model' must be a network spec with an 'arch'", "e.g. {arch: hrnet, ...}")
    size = raw["input"]
    if not (isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) and v > 0 for v in size)):
        raise ManifestError(name, f"'input' must be [height, width], not {size!r}", "e.g. [256, 192]")
    digest = raw["sha256"]
    if digest is None and not raw.get("checksum_note"):
        raise ManifestError(name, "sha256 is null without a 'checksum_note'", "say that no checksum is published")
    if digest is not None and not _is_hex(digest, 64):
        raise ManifestError(name, "sha256 must be 64 hex digits or null", "fix the digest")
    if not isinstance(raw["used_by"], list):
        raise ManifestError(name, "'used_by' must be a list of notebook numbers", 'e.g. ["05"]')
    score = raw["published_score"]
    if not (isinstance(score, int | float) and 0 < score <= 1):
        raise ManifestError(name, f"'published_score' must be a fraction in (0, 1], not {score!r}", "e.g. 0.744")
    try:
        feeding = parse(raw["feeding"], name)
    except ValueError as e:
        raise ManifestError(name, str(e), "see the 'feeding' blocks of the other checkpoints") from None
    return Checkpoint(name, raw["title"], _safe_relative(name, "file", raw["file"]), " ".join(raw["source"].split()),
                      raw["licence"], raw["layout"], dict(raw["model"]), (size[0], size[1]), raw["dataset"],
                      digest, raw["published"], float(score), feeding, tuple(str(u) for u in raw["used_by"]),
                      " ".join(str(raw.get("checksum_note", "")).split()))


def load_checkpoints(path: Path | None = None) -> dict[str, Checkpoint]:
    """The declared checkpoints of ``data_manifest.yaml`` (default: the repository's), validated."""
    from poselab.paths import repo_root

    path = Path(path) if path else repo_root() / "data_manifest.yaml"
    raw = yaml.safe_load(path.read_text()) or {}
    section = raw.get("checkpoints") or {}
    if not isinstance(section, dict):
        raise ManifestError("<manifest>", "'checkpoints' must be a mapping of names to entries", "see its comment")
    return {name: _parse(name, entry) for name, entry in section.items()}


def check_checkpoint(ck: Checkpoint, data_dir: Path, verify: bool = True) -> tuple[str, str]:
    """(state, detail): "missing", "corrupt" (its sha256 differs from the published one), or "present"."""
    p = ck.path(data_dir)
    if not p.is_file():
        return "missing", f"optional; get it from {ck.source}"
    if verify and ck.sha256 and file_hash(p, "sha256") != ck.sha256:
        return "corrupt", f"{ck.file}: sha256 differs from the published {ck.sha256[:12]}..."
    note = "sha256 verified" if verify and ck.sha256 else (ck.checksum_note or "present")
    return "present", note


def present(data_dir: Path, notebook: str | None = None, dataset: str | None = None) -> dict[str, Checkpoint]:
    """The declared checkpoints whose files are present (and verified where a sha256 is published), optionally only
    those a notebook uses or those trained on a data set."""
    return {name: ck for name, ck in load_checkpoints().items()
            if (notebook is None or notebook in ck.used_by) and (dataset is None or ck.dataset == dataset)
            and check_checkpoint(ck, data_dir)[0] == "present"}
