import hashlib
import io
import json
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml

from poselab.data.manifest import (
    ManifestError,
    check_dataset,
    fetch,
    load_manifest,
    require,
    safe_extract,
)

REPO = Path(__file__).resolve().parents[1]


def _write(tmp_path, datasets: dict) -> Path:
    p = tmp_path / "manifest.yaml"
    p.write_text(yaml.safe_dump({"version": 1, "datasets": datasets}))
    return p


def _entry(**over):
    e = {"title": "Fixture", "kind": "real", "acquisition": "manual", "root": "fixture", "licence": "test",
         "used_by": ["01"], "files": [{"path": "a.txt"}], "instructions": "put a.txt in data/fixture"}
    e.update(over)
    return e


def test_repository_manifest_loads():
    m = load_manifest(REPO / "data_manifest.yaml")
    assert {"synthetic_pose2d", "synthetic_lifting", "mpii", "coco_keypoints", "h36m"} <= set(m.datasets)
    assert m["coco_keypoints"].archives[0].md5 == "f4bbac642086de4f52a3fdda2de5fa2c"
    assert m["h36m"].acquisition == "manual" and m["mpii"].archives[0].url.startswith("https://")
    for ds in m.datasets.values():
        assert ds.licence and ds.used_by


@pytest.mark.parametrize(
    "broken, words",
    [
        (_entry(kind="bought"), "kind"),
        ({k: v for k, v in _entry().items() if k != "licence"}, "licence"),
        (_entry(colour="red"), "colour"),
        (_entry(root="../outside"), "relative path"),
        (_entry(files=[{"path": "/etc/passwd"}]), "relative path"),
        (_entry(files=[{"path": "a", "md5": "123"}]), "32 hex"),
        (_entry(files=[{"path": "a", "validate": "guess"}]), "validator"),
        (_entry(acquisition="fetch"), "archives"),
    ],
)
def test_malformed_entries_name_the_entry(tmp_path, broken, words):
    with pytest.raises(ManifestError) as e:
        load_manifest(_write(tmp_path, {"good": _entry(), "mpii_copy": broken}))
    assert "'mpii_copy'" in str(e.value) and words in str(e.value)


def test_unknown_entry_and_missing_data_name_the_entry_and_the_fix(tmp_path):
    m = load_manifest(_write(tmp_path, {"fixture": _entry()}))
    with pytest.raises(ManifestError, match="'nope'"):
        m["nope"]
    with pytest.raises(ManifestError) as e:
        require(m["fixture"], tmp_path / "data")
    assert "'fixture'" in str(e.value) and "missing" in str(e.value) and "put a.txt" in str(e.value)


def test_checksum_mismatch_is_reported_as_corrupt(tmp_path):
    data = tmp_path / "data"
    (data / "fixture").mkdir(parents=True)
    (data / "fixture" / "a.txt").write_text("hello")
    good = hashlib.md5(b"hello").hexdigest()
    m = load_manifest(_write(tmp_path, {"fixture": _entry(files=[{"path": "a.txt", "md5": good}])}))
    assert check_dataset(m["fixture"], data).state == "verified"
    (data / "fixture" / "a.txt").write_text("hellO")
    st = check_dataset(m["fixture"], data)
    assert st.state == "corrupt" and "MD5" in st.detail


def test_structure_validators_on_fixtures_in_the_real_formats(tmp_path):
    data = tmp_path / "data"
    root = data / "fixture"
    (root / "annot").mkdir(parents=True)
    (root / "annot" / "valid.json").write_text(json.dumps([
        {"image": "015601864.jpg", "center": [594.0, 257.0], "scale": 3.021,
         "joints": [[620.0, 394.0]] * 16, "joints_vis": [1] * 16}]))
    (root / "kp.json").write_text(json.dumps({"images": [{"id": 1, "file_name": "a.jpg", "width": 64, "height": 48}],
                                              "annotations": [],
                                              "categories": [{"id": 1, "keypoints": ["nose"]}]}))
    pos3d = {"S1": {"Walking": np.zeros((5, 32, 3))}}
    np.savez(root / "d3.npz", positions_3d=np.array(pos3d, dtype=object))
    pos2d = {"S1": {"Walking": [np.zeros((5, 17, 2))] * 4}}
    np.savez(root / "d2.npz", positions_2d=np.array(pos2d, dtype=object),
             metadata=np.array({"num_joints": 17}, dtype=object))
    files = [{"path": "annot/valid.json", "validate": "mpii_json"},
             {"path": "kp.json", "validate": "coco_keypoints_json"},
             {"path": "d3.npz", "validate": "videopose3d_3d"}, {"path": "d2.npz", "validate": "videopose3d_2d"}]
    m = load_manifest(_write(tmp_path, {"fixture": _entry(files=files)}))
    st = check_dataset(m["fixture"], data)
    assert st.state == "unconverted" and "d3.npz stores pickled Python objects" in st.detail  # not opened
    from poselab.data.pose_files import sha256sum

    for f in files[2:]:  # pinned by the manifest: read as they are
        f["sha256"] = sha256sum(root / f["path"])
    m = load_manifest(_write(tmp_path, {"fixture": _entry(files=files)}))
    st = check_dataset(m["fixture"], data)
    assert st.state == "verified", st.detail
    assert "1 people" in st.detail and "1 subjects" in st.detail
    (root / "annot" / "valid.json").write_text(json.dumps([{"image": "x.jpg"}]))
    st = check_dataset(m["fixture"], data)
    assert st.state == "corrupt" and "valid.json" in st.detail


def _tar_with(tmp_path, name: str, kind=tarfile.REGTYPE) -> Path:
    path = tmp_path / "a.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        info = tarfile.TarInfo(name)
        info.type = kind
        if kind == tarfile.SYMTYPE:
            info.linkname = "/etc/passwd"
            tf.addfile(info)
        else:
            info.size = 2
            tf.addfile(info, io.BytesIO(b"hi"))
    return path


@pytest.mark.parametrize(
    "name, kind", [("../evil.txt", tarfile.REGTYPE), ("/abs.txt", tarfile.REGTYPE),
                   ("ok/../../evil.txt", tarfile.REGTYPE), ("link", tarfile.SYMTYPE)]
)
def test_extraction_refuses_unsafe_tar_members(tmp_path, name, kind):
    archive = _tar_with(tmp_path, name, kind)
    with pytest.raises(ManifestError, match="unsafe"):
        safe_extract(archive, tmp_path / "out", "fixture")
    assert not (tmp_path / "evil.txt").exists()


def test_extraction_refuses_unsafe_zip_members(tmp_path):
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("../evil.txt", "x")
    with pytest.raises(ManifestError, match="unsafe"):
        safe_extract(path, tmp_path / "out", "fixture")
    link = tmp_path / "b.zip"
    with zipfile.ZipFile(link, "w") as zf:
        info = zipfile.ZipInfo("link")
        info.external_attr = 0o120777 << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(ManifestError, match="symbolic link"):
        safe_extract(link, tmp_path / "out", "fixture")


def test_fetch_verifies_and_extracts_a_local_archive(tmp_path):
    """The fetch pipeline on a file:// URL (no network): download, MD5, safe extraction."""
    src = tmp_path / "src.tar.gz"
    with tarfile.open(src, "w:gz") as tf:
        info = tarfile.TarInfo("pack/a.txt")
        info.size = 5
        tf.addfile(info, io.BytesIO(b"hello"))
    md5 = hashlib.md5(src.read_bytes()).hexdigest()
    archive = {"url": src.as_uri(), "file": "src.tar.gz", "md5": md5, "bytes": src.stat().st_size}
    entry = _entry(acquisition="fetch", archives=[archive], files=[{"path": "pack/a.txt"}])
    m = load_manifest(_write(tmp_path, {"fixture": entry}))
    st = fetch(m["fixture"], tmp_path / "data", progress=False)
    assert st.state == "verified"
    assert (tmp_path / "data" / "fixture" / "pack" / "a.txt").read_text() == "hello"
    assert not (tmp_path / "data" / "fixture" / "downloads").exists()
    bad = dict(archive, md5="0" * 32)
    m = load_manifest(_write(tmp_path, {"fixture2": _entry(acquisition="fetch", archives=[bad], root="f2")}))
    with pytest.raises(ManifestError, match="'fixture2'.*MD5"):
        fetch(m["fixture2"], tmp_path / "data", progress=False)


def test_manual_data_sets_cannot_be_fetched(tmp_path):
    m = load_manifest(_write(tmp_path, {"fixture": _entry()}))
    with pytest.raises(ManifestError, match="cannot be downloaded"):
        fetch(m["fixture"], tmp_path)


@pytest.mark.parametrize("root, said", [
    ("mpii/{user}", "root 'mpii/{user}' may hold only the placeholder {profile}"),  # was a 22-line KeyError
    ("mpii/{", "root 'mpii/{' may hold only the placeholder {profile}"),  # was an error naming no entry
    ("mpii/{0}", "root 'mpii/{0}' may hold only the placeholder {profile}"),
    ("{profile}/../../etc", "root '{profile}/../../etc' must be a relative path inside the data directory"),
])
def test_root_templates_hold_only_the_profile_and_stay_inside_the_data(tmp_path, root, said):
    with pytest.raises(ManifestError) as e:
        load_manifest(_write(tmp_path, {"mpii_copy": _entry(root=root)}))
    assert str(e.value).startswith(f"data set 'mpii_copy': {said}")
    assert load_manifest(_write(tmp_path, {"x": _entry(root="synthetic/{profile}/x")}))["x"].folder(
        tmp_path, "smoke") == tmp_path / "synthetic" / "smoke" / "x"


@pytest.mark.parametrize("glob", ["../../../../../../etc/*", "/etc/*", "**/../../*"])
def test_a_glob_is_checked_like_a_path(tmp_path, glob):
    """A pattern reaching out of the data set's folder counted the files there (145 under /etc)."""
    entry = _entry(files=[{"path": "images", "kind": "dir", "glob": glob}])
    with pytest.raises(ManifestError) as e:
        load_manifest(_write(tmp_path, {"mpii_copy": entry}))
    assert str(e.value).startswith(f"data set 'mpii_copy': glob of 'images' {glob!r} must be a relative path inside "
                                   "the data directory")
