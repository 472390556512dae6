"""``make check-full`` (``python -m poselab.tools.check_full``): every notebook's ``full`` code path, executed through
papermill and the HTML export on a CPU in minutes, so that the paper-scale code is proven before a GPU runs it.

The profile ``check-full`` has every size of ``full`` with its counts capped (``poselab.profiles.capped``).  Its data
folder (``data/check-full``) holds fixtures in the real layouts (``poselab.data.fixtures``: MPII, Human3.6M as
VideoPose3D converts it), so the real-data branches run too; its report says on every page that its numbers exercise
code and are not results.  A second pass runs notebooks 03-06 again with a COCO fixture and every declared checkpoint
in its official layout with random weights (``data/check-full-official``), so the branches that use them run too,
sharing the first pass's trained runs (``reports/check-full-official``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from poselab import paths
from poselab.profiles import get_profile

PROFILE = "check-full"
# Protocol #1's training subjects and its two test subjects, two kinds of motion: enough for every lifting code path
H36M_TAKES = (("S1", "walking"), ("S5", "sitting"), ("S6", "reaching"), ("S7", "bending"), ("S8", "walking"),
              ("S9", "sitting"), ("S11", "walking"))
OFFICIAL_NOTEBOOKS = ("03", "04", "05", "06")  # the notebooks that use an official checkpoint when it is present


def refuse_real(folder: Path) -> None:
    """The check writes fixtures: a real data set where one would go is an error, never overwritten."""
    from poselab.data.fixtures import is_fixture

    if folder.exists() and not is_fixture(folder):
        raise ValueError(f"{folder} holds a real data set; the check writes fixtures there: give it another --data-dir")


def write_fixtures(data_dir: Path, progress: bool = True) -> list[str]:
    """The profile's synthetic sets, and from them the MPII and Human3.6M fixtures (each written once).  Returns a line
    per data set."""
    from poselab.data.dataset import ImageSet
    from poselab.data.fixtures import is_fixture, write_h36m, write_mpii
    from poselab.data.synthetic.generate import ensure_synthetic

    for name in ("mpii", "h36m"):
        refuse_real(Path(data_dir) / name)
    profile = get_profile(PROFILE)
    pose2d = ensure_synthetic(data_dir, profile.data, profile.name, progress=progress)["pose2d"]
    lines = [f"synthetic: {pose2d}"]
    for name, write in (("mpii", lambda f: write_mpii(f, ImageSet(pose2d, "train"), ImageSet(pose2d, "val"))),
                        ("h36m", lambda f: write_h36m(f, seconds=2.0, takes=H36M_TAKES))):
        folder = Path(data_dir) / name
        if not is_fixture(folder):
            write(folder)
        lines.append(f"{name}: fixture in {folder}")
    return lines


def write_official(data_dir: Path, official_dir: Path, reports_dir: Path, official_reports: Path) -> list[str]:
    """The second pass's data folder: ``data_dir``'s sets linked, a COCO fixture, and every declared checkpoint in its
    official layout; its reports folder shares the first pass's trained runs."""
    from poselab.data.dataset import ImageSet
    from poselab.data.fixtures import is_fixture, write_coco
    from poselab.data.pretrained import load_checkpoints
    from poselab.models.pretrained import write_fixture

    official_dir.mkdir(parents=True, exist_ok=True)
    for name in ("synthetic", "mpii", "h36m"):
        link = official_dir / name
        if not link.exists():
            link.symlink_to((Path(data_dir) / name).resolve())
    coco = official_dir / "coco"
    refuse_real(coco)
    if not is_fixture(coco):
        write_coco(coco, ImageSet(Path(data_dir) / "synthetic" / PROFILE / "pose2d", "val"), n=8)
    lines = [f"coco: fixture in {coco}"]
    for ck in load_checkpoints().values():
        if not ck.path(official_dir).exists():
            write_fixture(ck, official_dir)
        lines.append(f"{ck.name}: fixture in {ck.path(official_dir)}")
    official_reports.mkdir(parents=True, exist_ok=True)
    store, shared = official_reports / "checkpoints", (Path(reports_dir) / "checkpoints").resolve()
    if not store.exists() and shared.exists():
        store.symlink_to(shared, target_is_directory=True)
    return lines


def main(argv: list[str] | None = None) -> int:
    from poselab.report.run import main as run_main

    root = paths.repo_root()
    ap = argparse.ArgumentParser(prog="python -m poselab.tools.check_full", description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, default=root / "data" / PROFILE)
    ap.add_argument("--reports-dir", type=Path, default=root / "reports" / PROFILE)
    ap.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda")
    ap.add_argument("--force", action="store_true", help="re-execute every notebook")
    ap.add_argument("--quiet", action="store_true", help="no per-cell progress bar")
    ap.add_argument("--no-official", action="store_true", help="skip the pass with the official checkpoints and COCO")
    a = ap.parse_args(argv)
    start = time.perf_counter()
    flags = ["--device", a.device] + (["--force"] if a.force else []) + (["--quiet"] if a.quiet else [])
    official_dir = a.data_dir.with_name(a.data_dir.name + "-official")
    official_reports = a.reports_dir.with_name(a.reports_dir.name + "-official")
    try:
        for line in write_fixtures(a.data_dir, progress=not a.quiet):
            print(f"check-full data: {line}")
        status = run_main(["--profile", PROFILE, "--data-dir", str(a.data_dir), "--reports-dir", str(a.reports_dir),
                           *flags])
        if status == 0 and not a.no_official:
            try:
                import pycocotools  # noqa: F401  (installed by pip install -e .; a bare GPU machine may lack it)
            except ImportError:
                print("check-full: the pass with the official checkpoints is skipped: pycocotools is not installed")
            else:
                for line in write_official(a.data_dir, official_dir, a.reports_dir, official_reports):
                    print(f"check-full data (official): {line}")
                status = run_main(["--profile", PROFILE, "--data-dir", str(official_dir), "--reports-dir",
                                   str(official_reports), *flags, "--notebooks", *OFFICIAL_NOTEBOOKS])
    except (OSError, ValueError) as e:
        print(f"poselab.tools.check_full: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 1
    print(f"check-full: {'passed' if status == 0 else 'FAILED'} in {(time.perf_counter() - start) / 60:.1f} min "
          f"(reports: {a.reports_dir / 'html' / 'index.html'}, {official_reports / 'html' / 'index.html'})")
    return status


if __name__ == "__main__":
    sys.exit(main())
