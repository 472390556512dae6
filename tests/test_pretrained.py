"""The official checkpoints as declared inputs: the manifest's entries, and files written in each official layout
(random weights under the official keys and prefixes) loading into the networks poselab builds."""

import pytest
import torch

from poselab.checkpoints import CheckpointError
from poselab.data import pretrained as declared
from poselab.models.hrnet import CheckpointMismatchError
from poselab.models.pretrained import load_pretrained, write_fixture

REQUIRED = {"simplebaseline_r50_coco", "hrnet_w32_coco", "hrnet_w32_mpii", "hourglass_reference_2",
            "hourglass_reference_8"}


def test_the_manifest_declares_the_official_checkpoints():
    entries = declared.load_checkpoints()
    assert REQUIRED <= set(entries)
    for ck in entries.values():
        assert ck.licence and ck.source and ck.published and ck.used_by
        assert ck.sha256 is not None or "no checksum" in ck.checksum_note
    assert entries["simplebaseline_r50_coco"].input == (256, 192)
    assert entries["hourglass_reference_8"].model["n_stacks"] == 8


def test_a_malformed_entry_is_one_error_naming_it(tmp_path):
    (tmp_path / "m.yaml").write_text("version: 1\ndatasets: {}\ncheckpoints:\n  x:\n    title: t\n    file: a.pth\n")
    with pytest.raises(Exception, match="'x'.*missing keys"):
        declared.load_checkpoints(tmp_path / "m.yaml")


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_a_file_in_the_official_layout_loads_and_runs(tmp_path, name):
    ck = declared.load_checkpoints()[name]
    assert declared.check_checkpoint(ck, tmp_path)[0] == "missing"
    written = write_fixture(ck, tmp_path)
    assert declared.check_checkpoint(ck, tmp_path)[0] == "present" and name in declared.present(tmp_path)
    model = load_pretrained(ck, tmp_path)
    h, w = ck.input
    out = model(torch.rand(1, 3, h // 4, w // 4) if "8" in name else torch.rand(1, 3, h, w))
    out = out[-1] if isinstance(out, list | tuple) else out
    assert torch.isfinite(out).all()
    raw = torch.load(written, weights_only=True)
    first = next(iter(raw["state_dict"] if "state_dict" in raw else raw))
    assert first.startswith("model.module.") == (ck.layout == "hourglass_reference")


def test_a_foreign_or_broken_file_names_itself(tmp_path):
    ck = declared.load_checkpoints()["hrnet_w32_mpii"]
    ck.path(tmp_path).parent.mkdir(parents=True)
    torch.save({"conv1.weight": torch.zeros(3)}, ck.path(tmp_path))
    with pytest.raises(CheckpointMismatchError, match="(?s)pose_hrnet_w32_256x256.pth.*1753 missing keys"):
        load_pretrained(ck, tmp_path)
    ck.path(tmp_path).write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(CheckpointError, match="hrnet_w32_mpii.*github.com/leoxiaobin"):
        load_pretrained(ck, tmp_path)


def test_placing_a_checkpoint_changes_what_the_runner_fingerprints(tmp_path):
    from poselab.report.run import DataState

    state = DataState()
    before = state.of(tmp_path, "smoke")
    assert state.of(tmp_path, "smoke") == before
    write_fixture(declared.load_checkpoints()["hourglass_reference_2"], tmp_path)
    assert state.of(tmp_path, "smoke") != before  # notebooks 03 and 04 then re-execute and use it


def test_an_official_hourglass_file_that_does_not_fit_names_the_tensor_and_shapes(tmp_path):
    """The reference hourglass's layout reports what differs as the HRNet layout does (it was a bare 'Error(s) in
    loading state_dict for StackedHourglass:' for a wrong shape, an AttributeError for {'state_dict': 5})."""
    ck = declared.load_checkpoints()["hourglass_reference_2"]
    path = write_fixture(ck, tmp_path)
    saved = torch.load(path, weights_only=True)
    key = "model.module.outs.1.conv.weight"
    saved["state_dict"][key] = torch.zeros(3, 1, 1, 1)
    torch.save(saved, path)
    from poselab.models import build_model

    shape = tuple(build_model(ck.model).state_dict()["outs.1.conv.weight"].shape)
    said = (f"{path} (hourglass_reference_2): checkpoint does not match the model:\n  1 shape mismatches:\n"
            f"    outs.1.conv.weight: checkpoint (3, 1, 1, 1), model {shape}")
    with pytest.raises(CheckpointMismatchError) as caught:
        load_pretrained(ck, tmp_path)
    assert str(caught.value) == said
    for junk in ({"state_dict": 5}, {"state_dict": {"outs.1.conv.weight": "not a tensor"}}):
        torch.save(junk, path)
        with pytest.raises(CheckpointMismatchError) as caught:
            load_pretrained(ck, tmp_path)
        assert str(caught.value) == (f"{path} (hourglass_reference_2): not a state dict: expected a mapping of "
                                     "parameter names to tensors")
