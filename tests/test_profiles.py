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
