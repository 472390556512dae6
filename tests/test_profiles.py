import pytest

from poselab.profiles import PROFILES, get_profile


def test_unknown_profile_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown profile 'fast'.*smoke, default, full"):
        get_profile("fast")


def test_profiles_grow_from_smoke_to_full():
    smoke, default, full = (PROFILES[n] for n in ("smoke", "default", "full"))
    for small, big in ((smoke, default), (default, full)):
        assert small.data.images.n_train < big.data.images.n_train
        assert small.data.images.image_size <= big.data.images.image_size
        assert small.budget_minutes < big.budget_minutes
    assert full.data.images.image_size == 256 and default.data.images.image_size == 128
    assert len({p.fingerprint() for p in PROFILES.values()}) == 3


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
    assert study.randomization_steps >= 5 and study.integral_train.loss == "integral"
    if name == "full":
        assert study.steps == 50 and study.simplebaseline is not None  # the authors' path and main model


def test_the_full_schedule_counts_every_training_run():
    from poselab.bench import full_schedule

    full = PROFILES["full"]
    parts = {p["name"].split(" (")[0]: p for p in full_schedule()}
    assert parts["hourglass 8 stacks"]["work"] == full.data.images.n_train * full.hourglass.train.epochs
    assert parts["HRNet-W32, 3 experiments x seeds"]["runs"] == 3 * len(full.hrnet.seeds)
    assert parts["HRNet-W32, 3 experiments x seeds"]["size"] == 256 and "SimpleBaseline ResNet" in parts
    assert parts["VAE-GAN h=1024"]["work"] > 0 and parts["VAE-GAN h=1024"]["runs"] == 1


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
