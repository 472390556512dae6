"""Notebooks 03 and 04 on the reference hourglass: found only when its checkpoint is on disk, dissected at its own
input size with the same skip ablation and latent features as ours, and described with where it came from."""

from types import SimpleNamespace

from conftest import TINY
from poselab.data.pretrained import load_checkpoints
from poselab.models.pretrained import write_fixture
from poselab.studies.hourglass.experiment import REFERENCE, reference_dissected
from poselab.studies.latent.features import extract_features
from poselab.studies.skips.experiment import skip_ablation


def test_the_reference_hourglass_is_dissected_like_ours(tiny_sets, tmp_path):
    place = SimpleNamespace(data_dir=tmp_path, device="cpu", seed=0, profile_name="tiny", synthetic=TINY)
    (tmp_path / "synthetic").symlink_to(tiny_sets["pose2d"].parents[1])  # the tiny synthetic sets
    assert reference_dissected(place, 2, "03") is None
    write_fixture(load_checkpoints()[REFERENCE], tmp_path)
    ref = reference_dissected(place, 2, "03")
    assert ref is not None and len(ref.dataset) == 2 and ref.dataset.size == 256
    assert "fixture" in ref.describe() and "0.883" in ref.describe()  # the repository README's 2HG figure
    ablation = skip_ablation(ref.model, ref.dataset, ref.source, "mpii16", "cpu", scales=(0,))
    assert 0 <= ablation.off.pckh <= 1 and ablation.resolution(0) == "64x64"
    feats = extract_features(ref.model, ref.dataset, "cpu")
    assert feats.x.shape == (2, 4 * 4 * 256)  # the 4x4x256 bottleneck of the 256x256 network
