"""``make check-full`` (``python -m poselab.check_full``): every notebook's ``full`` code path, executed through
papermill and the HTML export on a CPU in minutes, so that the paper-scale code is proven before a GPU runs it.

The profile is ``check-full`` (``poselab.profiles.capped``): every size of ``full`` (256x256 inputs, the 2- and
8-stack hourglasses at width 256, HRNet-W32, SimpleBaseline-ResNet50, the 4x4x256 latent layer, the 1024-wide
VAE-GAN) with its counts capped.  Its data folder holds fixtures in the real layouts (``poselab.data.fixtures``: MPII
with ``gt_valid.mat`` and the original annotation file, Human3.6M as VideoPose3D converts it), so the real-data
branches of ``full`` run too.  Its report (``reports/check-full/html/index.html``) says on every page that its
numbers exercise code and are not results.

A second pass runs notebooks 03-06 again with the official checkpoints and COCO present (``data/check-full-official``:
the same data, a COCO fixture, and every declared checkpoint written in its official layout with random weights), so
the branches that use them run too: notebook 05 in the COCO setting, 03 and 04 on the reference hourglass, 06 with
the official MPII HRNet-W32.  It shares the first pass's trained runs (``reports/check-full-official``).
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


def default_dirs() -> tuple[Path, Path]:
    """Where the check keeps its data and its report: apart from the real ones, so its fixtures never stand in for a
    real data set and its report never mixes with ``make report``'s."""
    return paths.repo_root() / "data" / PROFILE, paths.repo_root() / "reports" / PROFILE


def write_fixtures(data_dir: Path, progress: bool = True) -> list[str]:
    """The profile's synthetic sets, and from them the MPII and Human3.6M fixtures (each written once; a real data
    set found in ``data_dir`` is an error, never overwritten).  Returns a line per data set."""
    from poselab.data.dataset import ImageSet
    from poselab.data.fixtures import is_fixture, write_h36m, write_mpii
    from poselab.data.synthetic.generate import ensure_synthetic

    for name in ("mpii", "h36m"):
        folder = Path(data_dir) / name
        if folder.exists() and not is_fixture(folder):
            raise ValueError(f"{folder} holds a real data set; the check writes fixtures there: give it another "
                             "--data-dir")
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


OFFICIAL_NOTEBOOKS = ("03", "04", "05", "06")  # the notebooks that use an official checkpoint when it is present


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
    if coco.exists() and not is_fixture(coco):
        raise ValueError(f"{coco} holds a real data set; the check writes fixtures there: give it another --data-dir")
    if not is_fixture(coco):
        pose2d = Path(data_dir) / "synthetic" / PROFILE / "pose2d"
        write_coco(coco, ImageSet(pose2d, "val"), n=8)
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
    from poselab.run import main as run_main

    data_default, reports_default = default_dirs()
    ap = argparse.ArgumentParser(prog="python -m poselab.check_full", description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, default=data_default)
    ap.add_argument("--reports-dir", type=Path, default=reports_default)
    ap.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda")
    ap.add_argument("--force", action="store_true", help="re-execute every notebook")
    ap.add_argument("--quiet", action="store_true", help="no per-cell progress bar")
    ap.add_argument("--no-official", action="store_true", help="skip the pass with the official checkpoints and COCO")
    a = ap.parse_args(argv)
    start = time.perf_counter()
    try:
        for line in write_fixtures(a.data_dir, progress=not a.quiet):
            print(f"check-full data: {line}")
    except (OSError, ValueError) as e:
        print(f"poselab.check_full: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 1
    args = ["--profile", PROFILE, "--data-dir", str(a.data_dir), "--reports-dir", str(a.reports_dir),
            "--device", a.device] + (["--force"] if a.force else []) + (["--quiet"] if a.quiet else [])
    status = run_main(args)
    official_reports = a.reports_dir.with_name(a.reports_dir.name + "-official")
    if status == 0 and not a.no_official:
        try:
            import pycocotools  # noqa: F401  (installed by pip install -e .; a bare GPU machine may lack it)
        except ImportError:
            print("check-full: the pass with the official checkpoints is skipped: pycocotools is not installed")
        else:
            official_dir = a.data_dir.with_name(a.data_dir.name + "-official")
            try:
                for line in write_official(a.data_dir, official_dir, a.reports_dir, official_reports):
                    print(f"check-full data (official): {line}")
            except (OSError, ValueError) as e:
                print(f"poselab.check_full: error: {' '.join(str(e).split())}", file=sys.stderr)
                return 1
            status = run_main([*args[:2], "--data-dir", str(official_dir), "--reports-dir", str(official_reports),
                               *args[6:], "--notebooks", *OFFICIAL_NOTEBOOKS])
    print(f"check-full: {'passed' if status == 0 else 'FAILED'} in {(time.perf_counter() - start) / 60:.1f} min "
          f"(reports: {a.reports_dir / 'html' / 'index.html'}, {official_reports / 'html' / 'index.html'})")
    return status


if __name__ == "__main__":
    sys.exit(main())
