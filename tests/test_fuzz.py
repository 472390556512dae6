"""Random records and shapes into the manifest schema, the MPII JSON validator and the pose-file loaders: each
either loads valid data or raises the project's own error, never an unrelated exception."""

import json
import tempfile
from pathlib import Path

import numpy as np
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from poselab.data.manifest import VALIDATORS, ManifestError, load_manifest
from poselab.data.pose_files import UnsafeFileError, load_flat, save_flat

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
scalars = st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False, width=32) | st.text(max_size=8)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6),
                                                                                           inner, max_size=4),
                      max_leaves=12)
GOOD_ENTRY = {"title": "T", "kind": "real", "acquisition": "manual", "root": "t", "licence": "x", "used_by": ["01"],
              "files": [{"path": "a.json"}]}


@SETTINGS
@given(st.dictionaries(st.sampled_from([*GOOD_ENTRY, "archives", "generator", "md5", "extra"]), values, max_size=9),
       st.dictionaries(st.sampled_from(["path", "kind", "md5", "sha256", "validate", "optional", "oops"]), values,
                       max_size=5))
def test_the_manifest_schema_accepts_or_names_the_problem(entry, file_entry):
    for base in (entry, {**GOOD_ENTRY, "files": [file_entry]}):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "m.yaml"
            path.write_text(yaml.safe_dump({"version": 1, "datasets": {"x": base}}))
            try:
                manifest = load_manifest(path)
            except ManifestError as e:
                assert "'x'" in str(e) or "<manifest>" in str(e)
            else:
                assert "x" in manifest.datasets


person = st.fixed_dictionaries({
    "image": st.text(min_size=1, max_size=8) | st.integers(),
    "center": st.lists(st.floats(-10, 1000) | st.text(max_size=2), min_size=1, max_size=3),
    "scale": st.floats(-1, 5) | st.none(),
    "joints": st.lists(st.lists(st.floats(-10, 1000), min_size=2, max_size=2), min_size=14, max_size=17),
    "joints_vis": st.lists(st.integers(0, 1), min_size=15, max_size=17),
})


@SETTINGS
@given(st.lists(person | values, min_size=0, max_size=4))
def test_mpii_json_is_valid_or_a_value_error(records):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "valid.json"
        path.write_text(json.dumps(records))
        try:
            note = VALIDATORS["mpii_json"](path)
        except ValueError as e:
            assert str(e)
        else:
            assert note == f"{len(records)} people"


arrays = st.builds(lambda shape, dtype: np.zeros(shape, dtype),
                   st.lists(st.integers(0, 4), min_size=0, max_size=4).map(tuple),
                   st.sampled_from([np.float32, np.float64, np.int16, np.uint8]))
keys = st.lists(st.sampled_from(["3d", "2d", "x"]), min_size=1, max_size=1).map(lambda p: p[0]) .flatmap(
    lambda kind: st.builds(lambda *parts: "|".join((kind, *parts)),
                           *[st.text("AB1 ", min_size=1, max_size=3)] * (3 if kind == "2d" else 2)))


@SETTINGS
@given(st.dictionaries(keys | st.text("abc", min_size=1, max_size=3), arrays, max_size=5), st.booleans())
def test_pose_files_load_or_raise_the_projects_error(members, with_metadata):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "poses.npz"
        if with_metadata:
            members = {**members, "metadata": np.array(json.dumps({"num_joints": 17}))}
        np.savez(path, **members)
        try:
            pos3d, pos2d, meta = load_flat(path)
        except (UnsafeFileError, ValueError) as e:
            assert str(e)
        else:
            assert isinstance(pos3d, dict) and isinstance(pos2d, dict) and isinstance(meta, dict)
        for name in ("videopose3d_3d", "videopose3d_2d"):
            try:
                VALIDATORS[name](path)
            except (UnsafeFileError, ValueError) as e:
                assert str(e)


@SETTINGS
@given(st.dictionaries(st.text("S1", min_size=1, max_size=2), st.dictionaries(st.text("W 1", min_size=1, max_size=3),
                                                                             arrays, max_size=2), max_size=2))
def test_flat_pose_files_round_trip(pos3d):
    with tempfile.TemporaryDirectory() as tmp:
        save_flat(Path(tmp) / "p.npz", positions_3d=pos3d, metadata={"num_joints": 17})
        got, _, meta = load_flat(Path(tmp) / "p.npz")
        assert meta == {"num_joints": 17}
        assert {s: sorted(t) for s, t in got.items()} == {s: sorted(t) for s, t in pos3d.items() if t}
        for s, takes in pos3d.items():
            for t, a in takes.items():
                assert got[s][t].shape == a.shape and got[s][t].dtype == a.dtype
