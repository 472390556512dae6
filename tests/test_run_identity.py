"""A trained run is identified by what it trains (model, settings, data, declared training code), stored under its
label and key, loaded only with its key, and never written into a store it only reads."""

import ast
import shutil
from dataclasses import replace

import pytest
import torch

from conftest import tiny_place
from poselab.models import ARCHITECTURES, model_modules
from poselab.report.code_digest import PACKAGE_DIR, imported_names, module_file
from poselab.studies.hourglass import experiment as hg
from poselab.studies.hourglass.settings import HourglassStudy
from poselab.studies.lifting.settings import LiftingConfig, key_settings
from poselab.training import code, jobs
from poselab.training.config import TrainConfig
from poselab.training.runs import FINAL, RunMissing, RunStore

HOURGLASS = HourglassStudy(input_size=32, width=8, stem=(8, 8), depth=1, stacks=(1,), seeds=(0,), main_stacks=1,
                           train=TrainConfig(epochs=1, batch_size=8))
HRNET_SPEC = {"arch": "hrnet", "n_joints": 16, "width": 8, "blocks": [1, 1, 1, 1], "modules": [1, 1, 1],
              "stem_width": 8, "norm": "batch", "act": "relu", "init": "kaiming"}


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory):
    """A copy of the poselab sources that a test may edit."""
    root = tmp_path_factory.mktemp("src") / "poselab"
    shutil.copytree(PACKAGE_DIR, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _edited(package, relative: str, digest) -> tuple[str, str]:
    """(digest before, digest after) appending a comment to one file of the copy (restored afterwards)."""
    path = package / relative
    text = path.read_text()
    before = digest(package)
    path.write_text(text + "\n# an edit\n")
    try:
        code._digest.cache_clear()
        return before, digest(package)
    finally:
        path.write_text(text)
        code._digest.cache_clear()


@pytest.mark.parametrize("relative", ["evaluation/tables.py", "studies/hourglass/tables.py",
                                      "studies/hourglass/figures.py", "studies/skips/tables.py", "findings.py",
                                      "references.py", "profiles.py", "report/notebook.py", "models/hrnet.py",
                                      "studies/poseig/tables.py", "studies/lifting/figures.py",
                                      "studies/lifting/tables.py", "evaluation/stats.py"])
def test_editing_a_caption_table_figure_or_another_model_leaves_the_hourglass_key(package_copy, relative):
    hourglass = HOURGLASS.spec(1)
    before, after = _edited(package_copy, relative, lambda p: code.pose2d_code(model_modules(hourglass), p))
    assert before == after
    if not relative.startswith("studies/lifting"):
        before, after = _edited(package_copy, relative, code.lifting_code)
        assert before == after


@pytest.mark.parametrize("relative", ["models/hourglass.py", "training/loop.py", "data/pose_dataset.py",
                                      "data/transforms.py", "heatmaps.py", "evaluation/pck.py"])
def test_editing_the_model_the_loop_or_the_data_pipeline_changes_the_key(package_copy, relative):
    hourglass = HOURGLASS.spec(1)
    before, after = _edited(package_copy, relative, lambda p: code.pose2d_code(model_modules(hourglass), p))
    assert before != after


def test_each_architecture_keys_its_own_module(package_copy):
    hrnet_edit = _edited(package_copy, "models/hrnet.py", lambda p: code.pose2d_code(model_modules(HRNET_SPEC), p))
    assert hrnet_edit[0] != hrnet_edit[1]
    integral = {"arch": "integral", "backbone": HOURGLASS.spec(1), "beta": 10.0}
    backbone_edit = _edited(package_copy, "models/hourglass.py", lambda p: code.pose2d_code(model_modules(integral), p))
    assert backbone_edit[0] != backbone_edit[1]  # a fine-tuned model depends on its backbone's code too
    lifting = _edited(package_copy, "studies/lifting/models.py", code.lifting_code)
    assert lifting[0] != lifting[1]


def test_moving_a_declared_module_keeps_the_key(package_copy, tmp_path):
    moved = tmp_path / "poselab"
    shutil.copytree(package_copy, moved)
    (moved / "heatmaps.py").rename(moved / "targets.py")  # same contents under another name
    spec = HOURGLASS.spec(1)
    here = code._digest(tuple(sorted({*code.POSE2D, *("poselab.models.hourglass",)})), package_copy)
    there = code._digest(tuple(sorted({*code.POSE2D, "poselab.models.hourglass"} - {"poselab.heatmaps"}
                                      | {"poselab.targets"})), moved)
    assert here == there == code.pose2d_code(model_modules(spec), package_copy)


def _imports(module: str) -> set[str]:
    path = module_file(module)
    names = imported_names(ast.parse(path.read_text()), module, path.name == "__init__.py")
    return {n for n in names if n.split(".")[0] == "poselab" and module_file(n) is not None}


@pytest.mark.parametrize("declared", [code.POSE2D, code.LIFTING], ids=["pose2d", "lifting"])
def test_every_module_the_training_code_imports_is_declared_or_exempt(declared):
    arch_modules = {cls.__module__ for cls in ARCHITECTURES.values()}
    covered = set(declared) | (arch_modules if declared is code.POSE2D else set())
    todo, seen, missing = list(covered), set(), []
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        for dep in _imports(module):
            if dep in covered:
                todo.append(dep)
            elif not code.exempt(dep):
                missing.append(f"{module} imports {dep}")
    assert not missing, "declare these in poselab.training.code or exempt them with a reason:\n" + "\n".join(missing)


def test_the_declaration_check_would_catch_an_undeclared_import():
    assert not code.exempt("poselab.studies.hourglass.tables") and code.exempt("poselab.data.synthetic.render")


def test_evaluation_only_lifting_settings_stay_out_of_the_key():
    cfg = LiftingConfig()
    assert key_settings(replace(cfg, hypotheses=3, embedding_samples=5)) == key_settings(cfg)
    assert key_settings(replace(cfg, epochs=3)) != key_settings(cfg)


def test_two_settings_of_one_label_keep_two_checkpoints_and_load_by_key(tiny_sets, tmp_path):
    place = tiny_place(tiny_sets, tmp_path / "runs")
    one = HOURGLASS
    two = replace(HOURGLASS, train=replace(HOURGLASS.train, lr=5e-4))
    model_one, _ = hg.train_variants(one, place, workers=1)[(1, 0)]
    model_two, _ = hg.train_variants(two, place, workers=1)[(1, 0)]
    job_one, job_two = hg.main_job(place, one), hg.main_job(place, two)
    assert job_one.label == job_two.label == "hourglass-1" and job_one.key() != job_two.key()
    folders = sorted(p.parent.name for p in place.runs.write.glob(f"*/{FINAL}"))
    assert folders == sorted([f"hourglass-1-{job_one.key()}", f"hourglass-1-{job_two.key()}"])
    for job, model in ((job_one, model_one), (job_two, model_two)):
        loaded, saved = jobs.load_trained(job)
        assert saved["key"] == job.key() and saved["path"].parent.name.endswith(job.key())
        for k, v in model.state_dict().items():
            assert torch.equal(v, loaded.state_dict()[k])
    three = replace(HOURGLASS, train=replace(HOURGLASS.train, lr=1e-4))
    with pytest.raises(RunMissing, match="run notebook 02.*under other keys.*hourglass-1-"):
        hg.dissected(place, three, 4)


def test_a_read_only_store_is_reused_and_never_written(tiny_sets, tmp_path):
    report = tiny_place(tiny_sets, tmp_path / "report")
    hg.train_variants(HOURGLASS, report, workers=1)
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "report").rglob("*")}
    scratch = tiny_place(tiny_sets, tmp_path / "report")
    scratch.runs = RunStore(tmp_path / "scratch", read=(tmp_path / "report",))
    (_, reused), = hg.train_variants(HOURGLASS, scratch, workers=1).values()
    assert reused.status == "finished" and not (tmp_path / "scratch").exists()  # found in the report's store
    other = replace(HOURGLASS, seeds=(7,))
    hg.train_variants(other, scratch, workers=1)  # a new run: trained in the scratch store only
    assert len(list((tmp_path / "scratch").glob(f"hourglass-1-*/{FINAL}"))) == 1
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "report").rglob("*")} == before


def test_a_fine_tuned_run_keys_the_run_it_starts_from(tiny_sets, tmp_path):
    place = tiny_place(tiny_sets, tmp_path)
    (upstream,) = hg.training_jobs(place, HOURGLASS).values()
    spec = {"arch": "integral", "backbone": HOURGLASS.spec(1), "beta": 10.0}
    cfg = TrainConfig(epochs=1, batch_size=8, loss="integral", optimizer="adam")
    job = jobs.TrainJob(upstream.data, "mpii16", 32, 8, None, spec, cfg, "integral (hourglass-1)", place.runs,
                        init_from=upstream)
    other = replace(job, init_from=replace(upstream, cfg=replace(upstream.cfg, lr=5e-4)))
    assert job.key() != other.key() and job.name == "integral-hourglass-1"
    with pytest.raises(RunMissing, match="hourglass-1"):  # the hourglass it starts from was never trained
        jobs.train_model(job, "cpu", progress=False)
    jobs.train_runs([upstream], "cpu", workers=1)
    _, result = jobs.train_model(job, "cpu", progress=False)
    assert result.status == "finished" and (place.runs.write / f"{job.name}-{job.key()}" / FINAL).exists()
