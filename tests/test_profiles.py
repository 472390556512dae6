import pytest

from poselab.profiles import PROFILES, get_profile


def test_unknown_profile_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown profile 'fast'.*smoke, default, full, check-full"):
        get_profile("fast")


def test_profiles_grow_from_smoke_to_full():
    smoke, default, full = (PROFILES[n] for n in ("smoke", "default", "full"))
    for small, big in ((smoke, default), (default, full)):
        assert small.data.images.n_train < big.data.images.n_train
        assert small.data.images.image_size <= big.data.images.image_size
        assert small.budget_minutes < big.budget_minutes
    assert full.data.images.image_size == 256 and default.data.images.image_size == 128
    assert len({p.fingerprint() for p in PROFILES.values()}) == len(PROFILES) == 4


def test_the_profile_fingerprint_covers_what_changes_results_only():
    from dataclasses import replace

    default = PROFILES["default"]
    words = replace(default, description="another description", budget_minutes=default.budget_minutes + 5)
    assert words.fingerprint() == default.fingerprint()
    fewer = replace(default, latent=replace(default.latent, restarts=default.latent.restarts - 1))
    assert fewer.fingerprint() != default.fingerprint()


@pytest.mark.parametrize("name", list(PROFILES))
def test_poseig_settings_name_models_the_profile_has(name):
    from poselab.studies.poseig.experiment import hrnet_label, integral_label

    p = PROFILES[name]
    study = p.poseig
    hourglasses = [p.hourglass.label(s) for s in p.hourglass.stacks]
    labels = [*hourglasses, *(hrnet_label(e) for e in p.hrnet.experiments), integral_label(study)]
    labels += [study.simplebaseline.label] if study.simplebaseline else []
    assert study.integral_from in hourglasses and study.main in labels and study.hrnet_seed in p.hrnet.seeds
    assert study.randomization_steps >= (2 if p.code_check else 5) and study.integral_train.loss == "integral"
    assert study.models is None or (set(study.models) <= set(labels) and study.main in study.models)
    if name == "full":
        assert study.steps == 50 and study.simplebaseline is not None  # the authors' path and main model


def test_the_full_schedule_counts_every_training_run():
    from poselab.projection import schedule

    full = PROFILES["full"]
    parts = {p.name.split(" (")[0]: p for p in schedule(full)}
    n, val = full.data.images.n_train, full.data.images.n_val
    assert parts["hourglass 8 stacks: training"].work == (n + val / 3) * full.hourglass.train.epochs
    hrnet = parts["HRNet-W32: 3 experiments x 1 seeds"]
    assert hrnet.runs == 3 * len(full.hrnet.seeds) and hrnet.size == 256 and hrnet.batch == full.hrnet.train.batch_size
    assert "SimpleBaseline-ResNet50: training" in parts and parts["PoseIG on 3 HRNets"].runs == 3
    assert parts["VAE-GAN h=1024: 400 epochs"].work > 0 and parts["VAE-GAN h=1024: 400 epochs"].unit == "iterations"
    real = {p.name: p for p in schedule(full, mpii=True, h36m=True)}
    assert real["hourglass 2 stacks: training (02)"].work == (22_246 + 2_958 / 3) * full.hourglass.train.epochs


def _flat(obj, prefix: str = "") -> dict:
    from dataclasses import fields, is_dataclass

    if not is_dataclass(obj):
        return {prefix: obj}
    out = {}
    for f in fields(obj):
        out |= _flat(getattr(obj, f.name), f"{prefix}.{f.name}" if prefix else f.name)
    return out


def test_the_capped_full_profile_keeps_every_size_of_full():
    from poselab.profiles import CAPS

    full, check = _flat(PROFILES["full"]), _flat(PROFILES["check-full"])
    assert full.keys() == check.keys()
    capped = {f"{k}.{sub}" if isinstance(v, dict) else k for k, v in CAPS.items()
              for sub in (v if isinstance(v, dict) else [None])}
    about_itself = {"name", "description", "budget_minutes", "code_check"}
    assert capped <= full.keys()
    differs = {k for k in full if full[k] != check[k]}
    assert differs - capped - about_itself == set(), "only capped counts may differ from full"
    for k in capped:  # a cap never grows a count
        if isinstance(full[k], int | float) and k != "hourglass.train.max_steps" and not k.endswith("max_steps"):
            assert check[k] <= full[k], k
    sizes = {"hourglass.input_size": 256, "hourglass.width": 256, "hourglass.depth": 4, "hourglass.stacks": (2, 8),
             "hrnet.input_size": 256, "hrnet.width": 32, "hrnet.blocks": (4, 4, 4, 4), "hrnet.modules": (1, 4, 3),
             "poseig.simplebaseline.layers": (3, 4, 6, 3), "poseig.simplebaseline.input_size": 256,
             "lifting.hidden": 1024, "data.images.image_size": 256, "poseig.main": "simplebaseline"}
    assert {k: check[k] for k in sizes} == sizes
    assert PROFILES["check-full"].code_check and not PROFILES["full"].code_check


def test_knobs_replace_only_what_they_set_and_name_what_changed(capsys):
    from poselab.notebook import with_knobs
    from poselab.studies.hourglass.settings import HourglassStudy

    study = PROFILES["default"].hourglass
    assert with_knobs(study, stacks=None, seeds=None) == study  # None: the profile's value
    changed = with_knobs(study, seeds=[0])  # papermill passes lists
    assert changed.seeds == (0,) and changed.stacks == study.stacks
    assert "seeds=(0,) (profile: (0, 1, 2))" in capsys.readouterr().out
    with pytest.raises(ValueError, match="unknown setting"):
        with_knobs(study, stack=[1])
    with pytest.raises(ValueError, match="main_stacks=2"):
        HourglassStudy(stacks=(1,), main_stacks=2)
