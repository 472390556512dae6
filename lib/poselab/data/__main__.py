"""``python -m poselab.data``: generate the profile's synthetic sets and verify every real data set
that is present.  ``python -m poselab.data fetch NAME`` downloads a fetchable data set;
``python -m poselab.data status`` only reports; ``python -m poselab.data convert h36m`` turns VideoPose3D's
pickled npz files into pickle-free copies, once."""

from __future__ import annotations

import argparse
import sys

from poselab import paths
from poselab.data.manifest import PINNABLE, ManifestError, fetch, load_manifest, status_table
from poselab.data.pretrained import check_checkpoint, load_checkpoints
from poselab.io import as_disk_full
from poselab.profiles import get_profile

HINTS = {"not generated": "`python -m poselab.data --profile {profile}` generates it",
         "missing": "see data_manifest.yaml for how to obtain it"}


def _print(rows, profile: str = "default") -> None:
    width = max(len(ds.name) for ds, _ in rows)
    for ds, st in rows:
        hint = HINTS.get(st.state, "").format(profile=profile)
        print(f"  {ds.name:<{width}}  {st.state:<13} {st.detail}" + (f" ({hint})" if hint else ""))


def convert(name: str, data_dir) -> int:
    """Write pickle-free copies of a data set's files in VideoPose3D's pickled layout, saying what it does."""
    from poselab.data.pose_files import convert_pickled, flat_path, is_flat

    ds = load_manifest()[name]
    pickled = [ds.folder(data_dir) / f.path for f in ds.files if f.validate in PINNABLE]
    if len(pickled) != 2:
        print(f"error: {name} has no VideoPose3D npz files to convert", file=sys.stderr)
        return 2
    missing = [p for p in pickled if not p.is_file()]
    if missing:
        print(f"error: {', '.join(map(str, missing))} missing: {ds.instructions}", file=sys.stderr)
        return 2
    if all(is_flat(p) or is_flat(flat_path(p)) for p in pickled):
        print(f"{name}: already in the flat layout; nothing to convert")
        return 0
    print(f"{name}: reading the pickled dicts of {pickled[0].name} and {pickled[1].name} with an unpickler that "
          "builds numpy arrays only (anything else is refused), writing pickle-free copies beside them")
    for out in convert_pickled(*pickled):
        print(f"  wrote {out}")
    return 0


def _rehash_synthetic(data_dir, profile: str) -> list[str]:
    """Every file of the profile's generated synthetic sets hashed again: the ones that differ from what was
    written, as lines (``status --verify``)."""
    import json

    from poselab.data.integrity import problems

    bad = []
    for meta in sorted((data_dir / "synthetic" / profile).glob("*/meta.json")):
        recorded = json.loads(meta.read_text()).get("files", {})
        found = problems(meta.parent, recorded, rehash=True)
        print(f"synthetic {meta.parent.name}: {len(recorded)} files hashed, "
              + (f"{len(found)} differ" if found else "all as written"))
        bad += [f"{meta.parent.name}/{line}" for line in found]
    return bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m poselab.data", description=__doc__)
    ap.add_argument("command", nargs="?", default="generate", choices=["generate", "status", "fetch", "convert"])
    ap.add_argument("name", nargs="?", help="data set to fetch or convert (an entry of data_manifest.yaml)")
    ap.add_argument("--profile", default="default")
    ap.add_argument("--data-dir")
    ap.add_argument("--workers", type=int, help="rendering processes (default: all cores, at most 2)")
    ap.add_argument("--force", action="store_true", help="regenerate even if up to date")
    ap.add_argument("--verify", action="store_true",
                    help="hash every file of the synthetic sets again, whatever its modification time (a damaged copy "
                         "that kept its size and time is found and regenerated)")
    ap.add_argument("--debug", action="store_true", help="show Python tracebacks instead of one-line errors")
    a = ap.parse_args(argv)
    try:
        return _main(ap, a)
    except KeyboardInterrupt:
        print("\nposelab.data: interrupted; a set being written is left out (it is written again next time)",
              file=sys.stderr)
        return 130
    except (ManifestError, ValueError, OSError) as e:
        if a.debug:
            raise
        e = as_disk_full(e, paths.data_dir(a.data_dir))
        print(f"poselab.data: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2 if isinstance(e, ManifestError | ValueError) else 1


def _main(ap: argparse.ArgumentParser, a: argparse.Namespace) -> int:
    data_dir = paths.data_dir(a.data_dir)
    profile = get_profile(a.profile)
    if a.command == "fetch":
        if not a.name:
            ap.error("fetch needs a data set name")
        st = fetch(load_manifest()[a.name], data_dir)
        print(f"{a.name}: {st.state} ({st.detail})")
        return 0 if st.state == "verified" else 1
    if a.command == "convert":
        return convert(a.name or "h36m", data_dir)
    if a.command == "generate":
        from poselab.data.synthetic.generate import ensure_synthetic

        made = ensure_synthetic(data_dir, profile.data, profile.name, a.workers, force=a.force, verify=a.verify)
        for kind, folder in made.items():
            print(f"synthetic {kind}: {folder}" + (" (every file hashed: as written)" if a.verify else ""))
    elif a.verify and (bad := _rehash_synthetic(data_dir, profile.name)):
        print(f"error: {'; '.join(bad)}; `python -m poselab.data --profile {profile.name}` generates them again",
              file=sys.stderr)
        return 1
    rows = status_table(data_dir, profile.name)
    print(f"data sets under {data_dir} (profile {profile.name}):")
    _print(rows, profile.name)
    checkpoints = [(ck, *check_checkpoint(ck, data_dir)) for ck in load_checkpoints().values()]
    print(f"official checkpoints under {data_dir} (optional; a study uses one when its file is present):")
    width = max((len(ck.name) for ck, _, _ in checkpoints), default=0)
    for ck, state, detail in checkpoints:
        print(f"  {ck.name:<{width}}  {state:<13} {ck.file}: {detail}")
    made = [ds.name for ds, st in rows if st.state == "corrupt" and ds.kind == "generated"]
    corrupt = [ds.name for ds, st in rows if st.state == "corrupt" and ds.kind != "generated"] + [
        ck.name for ck, s, _ in checkpoints if s == "corrupt"]
    if made:
        print(f"error: corrupt generated data set(s): {', '.join(made)}; `python -m poselab.data --profile "
              f"{profile.name} --verify` (make data PROFILE={profile.name} VERIFY=1) generates them again",
              file=sys.stderr)
    if corrupt:
        print(f"error: corrupt data set(s): {', '.join(corrupt)}; delete and fetch them again", file=sys.stderr)
    if made or corrupt:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
