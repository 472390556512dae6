import numpy as np

from poselab.data.joints import INTERNAL_INDEX
from poselab.data.synthetic import render
from poselab.data.synthetic.camera import orbit_camera
from poselab.data.synthetic.skeleton import DOF_INDEX, N_DOFS, forward_kinematics, make_subject, place_on_ground

SUBJECT = make_subject("S1")
OUTFIT = render.Outfit((0.8, 0.1, 0.1), (0.1, 0.1, 0.4), (0.1, 0.1, 0.1), False, False, (0.9, 0.9, 0.2))
LIGHT = render.Light(np.array([0.0, -0.6, -0.8]), 0.4, 0.6)


def _hands_in_front() -> np.ndarray:
    """Standing, forearms raised in front of the chest, hands towards the midline."""
    angles = np.zeros(N_DOFS)
    for side in "lr":
        angles[DOF_INDEX[f"{side}_shoulder_flex"]] = 30
        angles[DOF_INDEX[f"{side}_shoulder_abd"]] = -20
        angles[DOF_INDEX[f"{side}_elbow_flex"]] = 90
    return place_on_ground(forward_kinematics(angles, np.zeros(3), SUBJECT.offsets))[0]


def _status(world, cam, occluder=None):
    joints_cam = cam.to_camera(world)
    uv = render.project_points(joints_cam, cam.K)
    layer = render.rasterize(render.body_parts(joints_cam, SUBJECT, OUTFIT), cam.K, cam.width, cam.height, LIGHT)
    return render.joint_status(joints_cam, uv, layer.depth, render.joint_radii(SUBJECT), occluder), uv, layer


def test_joint_hidden_behind_the_torso_is_flagged_invisible():
    world = _hands_in_front()
    target = world[INTERNAL_INDEX["thorax"]]
    front = orbit_camera(target, 0.0, 10.0, 3.0, 100.0, 128, 128)  # facing the person
    back = orbit_camera(target, 180.0, 0.0, 3.0, 100.0, 128, 128)  # behind: the hands are hidden by the torso
    seen_front, _, _ = _status(world, front)
    seen_back, uv, layer = _status(world, back)
    for joint in ("l_wrist", "r_wrist", "nose", "l_eye"):
        assert seen_front[INTERNAL_INDEX[joint]] == render.VISIBLE, joint
        assert seen_back[INTERNAL_INDEX[joint]] == render.SELF_OCCLUDED, joint
    # What hides the wrist from behind is the torso: a surface more than 20 cm nearer the camera.
    u, v = np.round(uv[INTERNAL_INDEX["l_wrist"]]).astype(int)
    assert back.to_camera(world[INTERNAL_INDEX["l_wrist"]])[2] - layer.depth[v, u] > 0.2
    # Joints on the back are visible from behind.
    assert seen_back[INTERNAL_INDEX["l_shoulder"]] == render.VISIBLE
    assert render.annotated(seen_back).all()


def test_joint_outside_the_frame_is_flagged_truncated():
    world = _hands_in_front()
    head = world[INTERNAL_INDEX["head_center"]]
    closeup = orbit_camera(head, 0.0, 0.0, 1.2, 150.0, 96, 96)  # a head-and-shoulders shot
    status, uv, _ = _status(world, closeup)
    for joint in ("l_ankle", "r_knee", "pelvis"):
        assert uv[INTERNAL_INDEX[joint], 1] > 96
        assert status[INTERNAL_INDEX[joint]] == render.TRUNCATED
    assert status[INTERNAL_INDEX["nose"]] == render.VISIBLE
    assert not render.annotated(status[[INTERNAL_INDEX["l_ankle"]]]).any()


def test_joint_behind_an_object_is_occluded_and_unannotated():
    world = _hands_in_front()
    cam = orbit_camera(world[INTERNAL_INDEX["pelvis"]], 0.0, 0.0, 4.0, 100.0, 96, 96)
    status, uv, layer = _status(world, cam)
    occluder = np.zeros((96, 96), bool)
    u, v = np.round(uv[INTERNAL_INDEX["l_knee"]]).astype(int)
    occluder[v - 2 : v + 3, u - 2 : u + 3] = True
    status_occ, _, _ = _status(world, cam, occluder)
    assert status[INTERNAL_INDEX["l_knee"]] == render.VISIBLE
    assert status_occ[INTERNAL_INDEX["l_knee"]] == render.OCCLUDED
    np.testing.assert_array_equal(render.coco_visibility(status_occ[[INTERNAL_INDEX["l_knee"],
                                                                     INTERNAL_INDEX["r_knee"]]]), [0, 2])


def test_rasterizer_depth_and_silhouette():
    world = _hands_in_front()
    cam = orbit_camera(world[INTERNAL_INDEX["pelvis"]], 0.0, 0.0, 4.0, 100.0, 96, 96)
    _, uv, layer = _status(world, cam)
    person = layer.alpha > 0.5
    assert 0.03 < person.mean() < 0.5
    # The person's surface is about 4 m away; empty pixels have no depth.
    assert np.isinf(layer.depth[~person & (layer.alpha == 0)]).all()
    d = layer.depth[person & np.isfinite(layer.depth)]
    assert 3.3 < d.min() < d.max() < 4.7
    # Every annotated joint projects onto the person's silhouette.
    u, v = np.round(uv[INTERNAL_INDEX["pelvis"]]).astype(int)
    assert person[v, u]


def test_status_codes_map_to_coco_flags():
    codes = np.array([render.TRUNCATED, render.OCCLUDED, render.SELF_OCCLUDED, render.VISIBLE])
    np.testing.assert_array_equal(render.coco_visibility(codes), [0, 0, 1, 2])
    np.testing.assert_array_equal(render.annotated(codes), [False, False, True, True])
