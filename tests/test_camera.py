import numpy as np

from poselab.data.synthetic.camera import Camera, horizon_coefficients, intrinsics, lifting_rig, look_at, orbit_camera


def test_pinhole_projection_matches_a_hand_computed_case():
    # u = f * X / Z + cx = 100 * 1 / 10 + 64 = 74;  v = 100 * 2 / 10 + 64 = 84
    cam = Camera(intrinsics(100.0, 64.0, 64.0), np.eye(3), np.array([0.0, 0.0, 5.0]), 128, 128)
    np.testing.assert_allclose(cam.project(np.array([1.0, 2.0, 5.0])), [74.0, 84.0])
    np.testing.assert_allclose(cam.center, [0.0, 0.0, -5.0])


def test_look_at_centres_the_target_and_keeps_up_up():
    cam = orbit_camera(np.array([0.3, 1.0, -0.2]), 30.0, 15.0, 4.0, 200.0, 101, 101)
    np.testing.assert_allclose(cam.project(np.array([0.3, 1.0, -0.2])), [50.0, 50.0], atol=1e-9)
    above = cam.project(np.array([0.3, 1.5, -0.2]))
    assert above[1] < 50.0  # higher in the world is higher (smaller v) in the image
    np.testing.assert_allclose(np.linalg.norm(cam.center - [0.3, 1.0, -0.2]), 4.0)
    R, _ = look_at(np.array([0.0, 0.0, 5.0]), np.zeros(3))
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
    assert np.isclose(np.linalg.det(R), 1.0)


def test_horizon_of_a_level_camera_is_the_middle_row():
    cam = orbit_camera(np.array([0.0, 1.6, 0.0]), 0.0, 0.0, 3.0, 100.0, 101, 101)
    a, b, c = horizon_coefficients(cam)
    assert np.sign(a * 50 + b * 80 + c) < 0  # below the middle: floor
    assert np.sign(a * 50 + b * 20 + c) > 0  # above: wall
    assert abs(a * 50 + b * 50 + c) < 1e-9


def test_lifting_rig_surrounds_the_capture_area():
    cams = lifting_rig()
    assert len(cams) == 4
    azimuths = sorted(np.degrees(np.arctan2(c.center[0], c.center[2])) % 360 for c in cams)
    np.testing.assert_allclose(np.diff(azimuths), 90.0, atol=1e-6)
    for c in cams:
        assert 1.0 < c.center[1] < 3.0
        np.testing.assert_allclose(c.project(np.array([0.0, 0.9, 0.0])), [499.5, 499.5], atol=1e-6)
