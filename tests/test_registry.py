import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from poselab.io import write_json  # noqa: E402
from poselab.report import registry as reg  # noqa: E402
from poselab.report.html import build_index  # noqa: E402


def test_registry_records_artifacts_with_metadata(tmp_path):
    r = reg.Registry("03", tmp_path, "smoke", "cpu", 7)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    r.save_figure(fig, "F03.1", "a line")
    r.save_table(pd.DataFrame({"a": [1, 2]}), "T03.1", "two rows")
    wide = pd.DataFrame([[1.0, 2.0]], columns=pd.MultiIndex.from_tuples([("PCKh", "a"), ("PCK", "b")]))
    r.save_table(wide, "T03.2", "two header levels")
    assert list(pd.read_csv(tmp_path / "tables" / "T03.2.csv", index_col=0).columns) == ["PCKh · a", "PCK · b"]
    r.headline("PCKh@0.5", 0.5)
    r.headline("PCKh@0.5", 0.75)  # replaces the first
    index = json.loads((tmp_path / "artifacts.json").read_text())
    assert [a["id"] for a in index["artifacts"]] == ["F03.1", "T03.1", "T03.2"]
    fig_entry = index["artifacts"][0]
    assert {k: fig_entry[k] for k in ("notebook", "profile", "device", "seed")} == {
        "notebook": "03", "profile": "smoke", "device": "cpu", "seed": 7}
    assert fig_entry["git_commit"] and fig_entry["created"]
    assert (tmp_path / "figures" / "F03.1.png").read_bytes()[:4] == b"\x89PNG"
    assert pd.read_csv(tmp_path / "tables" / "T03.1.csv").shape == (2, 2)
    assert [h["value"] for h in index["headlines"]] == [0.75]


@pytest.mark.parametrize("bad", ["T03.1", "F3.1", "F04.1", "figure"])
def test_figure_ids_are_checked(tmp_path, bad):
    r = reg.Registry("03", tmp_path, "smoke", "cpu", 0)
    with pytest.raises(ValueError):
        r.save_figure(plt.figure(), bad, "x")


def test_merge_replaces_a_notebooks_old_artifacts(tmp_path):
    report, stage = tmp_path / "report", tmp_path / "stage"
    old = reg.Registry("02", report, "smoke", "cpu", 0)
    old.save_table(pd.DataFrame({"a": [1]}), "T02.1", "old")
    old.save_table(pd.DataFrame({"a": [1]}), "T02.9", "no longer produced")
    reg.Registry("01", report, "smoke", "cpu", 0).save_table(pd.DataFrame({"b": [1]}), "T01.1", "other notebook")
    new = reg.Registry("02", stage, "default", "cpu", 0)
    new.save_table(pd.DataFrame({"a": [1, 2, 3]}), "T02.1", "new")
    index = reg.merge_stage(stage, report, "02")
    assert sorted(a["id"] for a in index["artifacts"]) == ["T01.1", "T02.1"]
    assert not (report / "tables" / "T02.9.csv").exists()
    assert len(pd.read_csv(report / "tables" / "T02.1.csv")) == 3
    assert next(a for a in index["artifacts"] if a["id"] == "T02.1")["profile"] == "default"
    html = build_index(report).read_text()
    assert "T01.1" in html and "T02.1" in html and "T02.9" not in html


def test_a_merge_into_a_folder_on_another_file_system_copies(tmp_path, monkeypatch):
    """A rename across file systems fails with EXDEV (reports/tables linked to another disk): the merge copies instead
    (it stopped with a traceback, 'Invalid cross-device link')."""
    import errno
    import os

    report, stage = tmp_path / "report", tmp_path / "stage"
    reg.Registry("02", report, "smoke", "cpu", 0).save_table(pd.DataFrame({"a": [1]}), "T02.1", "old")
    reg.Registry("02", stage, "smoke", "cpu", 0).save_table(pd.DataFrame({"a": [1, 2]}), "T02.1", "new")

    def rename(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link", str(src))

    monkeypatch.setattr(os, "rename", rename)
    index = reg.merge_stage(stage, report, "02")
    assert [a["id"] for a in index["artifacts"]] == ["T02.1"]
    assert len(pd.read_csv(report / "tables" / "T02.1.csv")) == 2 and not (stage / "tables" / "T02.1.csv").exists()


def test_trainings_are_recorded_and_merged_per_notebook(tmp_path):
    stage = tmp_path / "stage"
    r = reg.Registry("02", stage, "smoke", "cpu", 0)
    r.training("hourglass-1", {"precision": "float32", "threads": 1, "seconds": 3.0})
    reg.merge_stage(stage, tmp_path, "02")
    r = reg.Registry("02", tmp_path / "stage2", "smoke", "cpu", 0)
    r.training("hourglass-2", {"precision": "float32", "threads": 1, "seconds": 4.0})
    index = reg.merge_stage(tmp_path / "stage2", tmp_path, "02")
    assert [t["label"] for t in index["trainings"]] == ["hourglass-2"]  # a rerun replaces the notebook's list
    assert index["trainings"][0]["precision"] == "float32" and index["trainings"][0]["notebook"] == "02"
    from poselab.report import machine

    index["runs"]["02"] = {"title": "02", "wall_seconds": 5.0, "machine": machine.describe()}
    write_json(tmp_path / reg.ARTIFACTS, index)
    html = build_index(tmp_path).read_text()
    assert "Trained models" in html and "float32" in html and machine.describe()["cpu"] in html


def test_vector_extensions_from_cpu_flags():
    from poselab.report import machine

    assert machine.vector_extensions({"fpu", "avx2", "fma"}) == ["AVX2"]
    assert machine.vector_extensions({"avx2", "avx512f", "amx_bf16", "amx_tile"}) == ["AVX2", "AVX-512", "AMX-BF16",
                                                                                      "AMX"]
    info = machine.describe()
    assert info["torch_threads"] >= 1 and info["torch_capability"] and "cores" in machine.one_line(info)


def test_deterministic_kernels_always_on_the_cpu_and_on_request_on_cuda(monkeypatch):
    from poselab.report.notebook import DETERMINISTIC_ENV, deterministic_kernels

    monkeypatch.delenv(DETERMINISTIC_ENV, raising=False)
    assert deterministic_kernels("cpu") and not deterministic_kernels("cuda") and not deterministic_kernels("cuda:1")
    monkeypatch.setenv(DETERMINISTIC_ENV, "1")
    assert deterministic_kernels("cuda")


def test_exported_notebooks_fold_their_code_and_hide_machine_paths(tmp_path):
    import nbformat

    from poselab.report.html import export_notebooks, without_machine_paths

    root = tmp_path / "repo"
    (root / "data").mkdir(parents=True)
    source = f'profile = "smoke"\ndata_dir = "{root / "data"}"\nstage_dir = "/tmp/poselab-stage-x1/01"\n'
    assert without_machine_paths(source, root) == ('profile = "smoke"\ndata_dir = "data"\n'
                                                   'stage_dir = "<outside the repository>/01"\n')
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]}),
                nbformat.v4.new_code_cell("x = 1")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (tmp_path / "reports" / "executed").mkdir(parents=True)
    nbformat.write(nb, tmp_path / "reports" / "executed" / "01_data_prep.ipynb")
    page = export_notebooks(tmp_path / "reports", root)["01"].read_text()
    assert str(root) not in page and "poselab-stage" not in page
    assert "show code" in page and ".jp-CodeCell .jp-Cell-inputWrapper{display:none}" in page
    # the executed notebook keeps the real paths for JupyterLab
    assert str(root / "data") in (tmp_path / "reports" / "executed" / "01_data_prep.ipynb").read_text()


# ----------------------------------------------------------------------------------------- issue 37: a lost index


def _report_of_03(report):
    """A report in which notebook 03 left a figure, a table and a headline, and the runner its record."""
    stage = report / "stage"
    r = reg.Registry("03", stage, "smoke", "cpu", 0)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    r.save_figure(fig, "F03.1", "a line")
    r.save_table(pd.DataFrame({"a": [1, 2]}), "T03.1", "two rows")
    r.headline("PCKh", 0.5)
    index = reg.merge_stage(stage, report, "03")
    record = {"title": "skips", "wall_seconds": 3.0, "artifacts": ["F03.1", "T03.1"]}
    write_json(report / reg.STATE / "03.json", record)
    index["runs"]["03"] = record
    write_json(report / reg.ARTIFACTS, index)
    return index, record


@pytest.mark.parametrize("damage", [None, "{}", "null", "[]", '{"artifacts": 5}',
                                    '{"artifacts": [{"notebook": "03", "kind": "figure", "id": "F03.1", '
                                    '"path": "../../etc/passwd"}], "headlines": [], "trainings": [], "findings": [], '
                                    '"runs": {}}'],
                         ids=["deleted", "empty-mapping", "null", "list", "artifacts-a-number", "path-outside"])
def test_a_missing_or_wrong_typed_index_is_rebuilt_from_the_notebook_records(tmp_path, damage):
    """Deleting artifacts.json (or leaving valid JSON that is not an index) rebuilds it from reports/.state: the report
    keeps every figure, table and headline (it was read as empty, every notebook 'up to date', an empty report)."""
    from poselab.report.outputs import missing_output

    before, record = _report_of_03(tmp_path)
    path = tmp_path / reg.ARTIFACTS
    if damage is None:
        path.unlink()
    else:
        path.write_text(damage)
    with pytest.warns(UserWarning, match="artifacts.json was (missing|a JSON|without|with an artifact).* rebuilt from"):
        index = reg.load_index(tmp_path)
    assert index == before and json.loads(path.read_text()) == before
    assert missing_output(tmp_path, "03", record, index) is None
    html = build_index(tmp_path).read_text()
    assert "F03.1.png" in html and "T03.1.csv" in html and "PCKh" in html


def test_an_index_rebuilt_without_a_notebooks_entries_re_executes_it(tmp_path):
    """Lost with the records it is rebuilt from, a notebook's outputs are missed by name: it runs again."""
    from poselab.report.outputs import missing_output

    _, record = _report_of_03(tmp_path)
    (tmp_path / reg.ARTIFACTS).unlink()
    (tmp_path / reg.STATE / "03.index.json").unlink()
    with pytest.warns(UserWarning, match="rebuilt"):
        index = reg.load_index(tmp_path)
    assert index["artifacts"] == [] and index["runs"]["03"] == record
    assert missing_output(tmp_path, "03", record, index) == ("its output F03.1 is no longer listed in the report's "
                                                             "index (artifacts.json)")
    fresh = tmp_path / "new"
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a new report has nothing to rebuild: empty, silently
        assert reg.load_index(fresh) == reg.empty_index()


def test_a_merge_that_fails_part_way_keeps_the_previous_outputs_and_index(tmp_path, monkeypatch):
    """With reports/tables read-only the merge of a re-executed notebook fails; its previous figures were deleted
    before (F03.1 gone while artifacts.json still listed it).  Now the old files are moved aside first and put back."""
    import errno
    import os

    from poselab.report.run import one_line

    report = tmp_path / "report"
    before, _ = _report_of_03(report)
    old_png, old_csv = (report / "figures" / "F03.1.png").read_bytes(), (report / "tables" / "T03.1.csv").read_bytes()
    old_part = (report / reg.STATE / "03.index.json").read_text()
    stage = tmp_path / "stage"
    r = reg.Registry("03", stage, "smoke", "cpu", 0)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    r.save_figure(fig, "F03.1", "another line")
    r.save_figure(fig, "F03.2", "a new figure")
    r.save_table(pd.DataFrame({"a": [1, 2, 3]}), "T03.1", "three rows")
    replace = os.replace

    def read_only_tables(src, dst):  # nothing moves into or out of a read-only folder
        if report / "tables" in (Path(src).parent, Path(dst).parent):
            raise OSError(errno.EROFS, "Read-only file system", str(src), None, str(dst))
        return replace(src, dst)

    monkeypatch.setattr(os, "replace", read_only_tables)  # putting back
    monkeypatch.setattr(reg.shutil, "move", read_only_tables)  # moving aside and in
    with pytest.raises(OSError) as caught:
        reg.merge_stage(stage, report, "03")
    assert one_line(caught.value) == (f"cannot write {report / 'tables' / 'T03.1.csv'}: read-only file system (make "
                                      "the folder writable or use another --reports-dir)")
    assert (report / "figures" / "F03.1.png").read_bytes() == old_png
    assert (report / "tables" / "T03.1.csv").read_bytes() == old_csv
    assert not (report / "figures" / "F03.2.png").exists()
    assert reg.load_index(report) == before and (report / reg.STATE / "03.index.json").read_text() == old_part
    monkeypatch.undo()
    index = reg.merge_stage(stage, report, "03")  # writable again: a plain rerun merges
    assert [a["id"] for a in index["artifacts"]] == ["F03.1", "F03.2", "T03.1"]
    assert len(pd.read_csv(report / "tables" / "T03.1.csv")) == 3
