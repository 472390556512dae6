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
    from poselab.report.notebook import with_knobs
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


# ----------------------------------------------------------------------------------------- issue 37: knob values

SMOKE = PROFILES["smoke"]


@pytest.mark.parametrize("settings, knobs, said", [
    ("poseig", {"images": 0}, "images=0 (PoseIGStudy.images): must be a whole number >= 1"),
    ("skips", {"samples": -5}, "samples=-5 (SkipStudy.samples): must be a whole number >= 1"),
    ("latent", {"samples": -5}, "samples=-5 (LatentStudy.samples): must be a whole number above the largest K (4)"),
    ("latent", {"ks": [10, 2]}, "k_range=(10, 2) (LatentStudy.ks): must be [K from, K to], whole numbers with 2 <= K "
                                "from <= K to"),
    ("latent", {"restarts": 0}, "restarts=0 (LatentStudy.restarts): must be a whole number >= 1"),
    ("lifting", {"hypotheses": -1}, "hypotheses=-1 (LiftingConfig.hypotheses): must be a whole number >= 1"),
    ("lifting", {"embedding_samples": 0}, "embedded=0 (LiftingConfig.embedding_samples): must be a whole number"),
    ("hourglass", {"seeds": "[1]"}, "seeds='[1]' (HourglassStudy.seeds): must be a list of whole numbers, not a "
                                    "string (the profile's value: (0, 1))"),
    ("hourglass", {"qualitative": 2.5}, "shown=2.5 (HourglassStudy.qualitative): must be a whole number, not a "
                                        "decimal number"),
    ("hrnet", {"seeds": [0, -1]}, "seeds=(0, -1) (HRNetStudy.seeds): must be one or more different seeds"),
    ("skips", {"scales": [True]}, "scales=[True] (SkipStudy.scales): must be a list of whole numbers or None"),
    ("poseig", {"main": 5}, "model=5 (PoseIGStudy.main): must be a string, not a whole number"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 12 else None)
def test_every_knob_value_is_checked_where_it_enters(settings, knobs, said, capsys):
    """A value out of range or of the wrong type is one line naming the knob, the value and what is allowed (it was
    an IndexError, a KeyError: 'K', an AttributeError, 'need at least one array to stack' deep in the notebook)."""
    import re

    from poselab.report.notebook import with_knobs

    with pytest.raises(ValueError, match="^" + re.escape(said)) as caught:
        with_knobs(getattr(SMOKE, settings), **knobs)
    assert "\n" not in str(caught.value) and "knobs:" not in capsys.readouterr().out  # nothing said to be changed


def test_person_and_model_knobs_of_notebook_05(tmp_path):
    from types import SimpleNamespace

    import numpy as np
    import torch

    from poselab.data.joints import MPII16
    from poselab.report.notebook import with_knobs
    from poselab.studies.poseig.attribute import Samples
    from poselab.studies.poseig.experiment import chosen_person, compared_models
    from poselab.training.runs import RunStore

    annotated = np.ones((4, 16), bool)
    annotated[0, 3] = False
    people = Samples(torch.zeros(4, 3, 8, 8), torch.zeros(4, 8, 8, dtype=torch.bool), torch.zeros(4, 16, 2), annotated,
                     np.ones(4), np.arange(4), MPII16)
    assert chosen_person(people, None) == 1  # the first fully annotated one
    assert chosen_person(people, 3) == 3 and chosen_person(people, np.int64(0)) == 0
    for bad in (999, -1, 1.0, True, "2"):  # -1 was silently the last person
        with pytest.raises(ValueError, match=f"^person={bad!r}: must be the index of one of the 4 people explained, a "
                                             "whole number from 0 to 3 \\(or None"):
            chosen_person(people, bad)
    place = SimpleNamespace(data_dir=tmp_path, device="cpu", seed=0, profile_name="smoke", synthetic=SMOKE.data,
                            runs=RunStore(tmp_path / "runs"))
    study = with_knobs(SMOKE.poseig, main="resnet-999")
    with pytest.raises(ValueError, match="^model='resnet-999': must be one of the models compared: hourglass-1, "
                                         "hourglass-2, hrnet as designed, .*, integral \\(hourglass-1\\), "
                                         "simplebaseline$"):
        compared_models(place, study, SMOKE.hourglass, SMOKE.hrnet)  # before any model is loaded or trained
    assert not (tmp_path / "runs").exists()
