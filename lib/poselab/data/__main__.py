"""``python -m poselab.data``: generate the profile's synthetic sets and verify every real data set
that is present.  ``python -m poselab.data fetch NAME`` downloads a fetchable data set;
``python -m poselab.data status`` only reports."""

from __future__ import annotations

import argparse
import sys

from poselab import paths
from poselab.manifest import ManifestError, check_dataset, fetch, load_manifest
from poselab.profiles import get_profile


def status_table(data_dir, profile: str, verify: bool = True) -> list:
    manifest = load_manifest()
    return [(ds, check_dataset(ds, data_dir, profile, verify)) for ds in manifest.datasets.values()]


def _print(rows) -> None:
    width = max(len(ds.name) for ds, _ in rows)
    for ds, st in rows:
        print(f"  {ds.name:<{width}}  {st.state:<13} {st.detail}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m poselab.data", description=__doc__)
    ap.add_argument("command", nargs="?", default="generate", choices=["generate", "status", "fetch"])
    ap.add_argument("name", nargs="?", help="data set to fetch (an entry of data_manifest.yaml)")
    ap.add_argument("--profile", default="default")
    ap.add_argument("--data-dir")
    ap.add_argument("--workers", type=int, help="rendering processes (default: all cores, at most 2)")
    ap.add_argument("--force", action="store_true", help="regenerate even if up to date")
    a = ap.parse_args(argv)
    data_dir = paths.data_dir(a.data_dir)
    try:
        profile = get_profile(a.profile)
        if a.command == "fetch":
            if not a.name:
                ap.error("fetch needs a data set name")
            st = fetch(load_manifest()[a.name], data_dir)
            print(f"{a.name}: {st.state} ({st.detail})")
            return 0 if st.state == "verified" else 1
        if a.command == "generate":
            from poselab.data.synthetic.generate import ensure_synthetic

            made = ensure_synthetic(data_dir, profile.data, profile.name, a.workers, force=a.force)
            for kind, folder in made.items():
                print(f"synthetic {kind}: {folder}")
        rows = status_table(data_dir, profile.name)
    except ManifestError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"data sets under {data_dir} (profile {profile.name}):")
    _print(rows)
    corrupt = [ds.name for ds, st in rows if st.state == "corrupt"]
    if corrupt:
        print(f"error: corrupt data set(s): {', '.join(corrupt)}; delete and fetch them again", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
