"""Random records and shapes into the manifest schema, the MPII JSON validator and the pose-file loaders: each
either loads valid data or raises the project's own error (raised by poselab's code with a message, ``ours``), never
an unrelated exception (a numpy ``ValueError`` from deep inside a conversion is not one)."""

import json
import tempfile
import traceback
from pathlib import Path

import numpy as np
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from poselab.data.manifest import VALIDATORS, ManifestError, load_manifest
from poselab.data.pose_files import UnsafeFileError, load_flat, save_flat


def ours(e: BaseException) -> bool:
    """Whether ``e`` was raised by poselab's own code (its innermost frame in lib/poselab), with a message."""
    frames = traceback.extract_tb(e.__traceback__)
    return bool(str(e)) and bool(frames) and f"{Path('lib', 'poselab')}" in frames[-1].filename


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
            assert ours(e), repr(e)
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
            assert ours(e) and str(path) in str(e), repr(e)
        else:
            assert isinstance(pos3d, dict) and isinstance(pos2d, dict) and isinstance(meta, dict)
        for name in ("videopose3d_3d", "videopose3d_2d"):
            try:
                note = VALIDATORS[name](path)
            except (UnsafeFileError, ValueError) as e:
                assert ours(e), repr(e)
            else:
                assert note.endswith(("sequences", "joints")), note  # "2 subjects, 3 sequences" or "..., 17 joints"


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


numbers = st.floats(-30, 60) | st.sampled_from([float("nan"), float("inf"), -1e12, 1e12, 0.0]) | st.integers(-3, 3)


def _compressed(bits: list[bool]) -> dict:
    from pycocotools import mask as rle

    code = rle.encode(np.asfortranarray(np.array(bits, np.uint8).reshape(20, 16)))
    return {"size": code["size"], "counts": code["counts"].decode()}


# valid annotations, each with at most one field damaged: those that pass reach pycocotools, the others are named
polygons = st.lists(st.lists(st.tuples(st.floats(-16, 32), st.floats(-20, 40)), min_size=3, max_size=5).map(
    lambda points: [v for p in points for v in p]), min_size=1, max_size=2)
runs = st.lists(st.integers(0, 80), max_size=6).filter(lambda c: sum(c) <= 320).map(
    lambda c: {"size": [20, 16], "counts": [*c, 320 - sum(c)]})
VALID = st.fixed_dictionaries({
    "id": st.integers(1, 9), "image_id": st.just(1), "category_id": st.just(1), "iscrowd": st.integers(0, 1),
    "area": st.floats(0, 300),
    "bbox": st.tuples(st.floats(0, 15), st.floats(0, 19), st.floats(0.1, 20), st.floats(0.1, 20)).map(list),
    "keypoints": st.lists(st.tuples(st.floats(-5, 25), st.floats(-5, 25), st.integers(0, 2)), min_size=17,
                          max_size=17).map(lambda kp: [v for p in kp for v in p]),
    "segmentation": polygons | runs | st.lists(st.booleans(), min_size=320, max_size=320).map(_compressed),
})
DAMAGED = {
    "image_id": st.integers(2, 3) | values,
    "area": numbers | values,
    "bbox": st.lists(numbers, min_size=3, max_size=5) | values,
    "keypoints": st.lists(numbers | st.integers(0, 3), min_size=50, max_size=52) | values,
    "segmentation": st.lists(st.lists(numbers, max_size=10), max_size=2) | values
    | st.fixed_dictionaries({"size": st.sampled_from([[20, 16], [16, 20], [3]]),
                             "counts": st.lists(st.integers(-2, 200), max_size=5)
                             | st.text("0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`aboz!", max_size=8)}),
}
annotations = VALID.flatmap(lambda ann: st.sampled_from([None, None, None, *DAMAGED]).flatmap(
    lambda field: st.just(ann) if field is None else DAMAGED[field].map(lambda v: {**ann, field: v})))


@SETTINGS
@given(st.lists(annotations, min_size=1, max_size=2))
def test_coco_annotations_are_valid_for_pycocotools_or_a_value_error(anns):
    """What ``check_annotations`` lets through, pycocotools indexes and draws (a NaN or far polygon would make it
    allocate without bound, a junk RLE string read outside its buffer: they must be refused first)."""
    from poselab.data import coco

    data = {"images": [{"id": 1, "file_name": "a.jpg", "width": 16, "height": 20}],
            "categories": [{"id": 1, "name": "person", "keypoints": [f"k{j}" for j in range(17)]}],
            "annotations": anns}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "person_keypoints_val2017.json"
        path.write_text(json.dumps(data))
        try:
            annotations = coco.load_annotations(path)
        except coco.COCOError as e:
            assert str(e).startswith(f"{path}: ") and "\n" not in str(e)
            return
        for ann in annotations.dataset["annotations"]:
            assert annotations.annToMask(ann).shape == (20, 16)
        coco.person_instances(annotations)
