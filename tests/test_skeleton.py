import numpy as np
import pytest

from poselab.data.joints import CONVENTIONS, INTERNAL_INDEX, N_INTERNAL, PARENT_INDEX, mirror_name
from poselab.data.synthetic.motion import ACTION_NAMES, sample_motion
from poselab.data.synthetic.skeleton import (
    DOF_INDEX,
    DOF_LIMITS_DEG,
    N_DOFS,
    SUBJECTS,
    bone_lengths,
    forward_kinematics,
    make_subject,
)


def _angle(u, v):
    cos = np.sum(u * v, -1) / np.linalg.norm(u, axis=-1) / np.linalg.norm(v, axis=-1)
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


@pytest.mark.parametrize("action", ACTION_NAMES)
def test_bone_lengths_are_preserved_as_poses_change(action):
    subject = make_subject("S5")
    motion = sample_motion(action, np.random.default_rng(1))
    angles, root = motion(np.linspace(0, 10, 60))
    joints = forward_kinematics(angles, root, subject.offsets)
    expected = np.linalg.norm(subject.offsets[1:], axis=1)
    lengths = bone_lengths(joints)
    assert lengths.shape == (60, N_INTERNAL - 1)
    np.testing.assert_allclose(lengths, np.broadcast_to(expected, lengths.shape), atol=1e-9)
    # ...and the poses really do change over time.
    assert np.ptp(joints[:, INTERNAL_INDEX["l_wrist"]], axis=0).max() > 0.05


@pytest.mark.parametrize("action", ACTION_NAMES)
def test_joint_limits_hold_for_every_action(action):
    for seed in range(5):
        angles, _ = sample_motion(action, np.random.default_rng(seed))(np.linspace(0, 20, 200))
        assert angles.shape == (200, N_DOFS)
        assert (angles >= DOF_LIMITS_DEG[:, 0] - 1e-9).all() and (angles <= DOF_LIMITS_DEG[:, 1] + 1e-9).all()
        joints = forward_kinematics(angles, np.zeros((200, 3)))
        for side in "lr":
            upper = joints[:, INTERNAL_INDEX[f"{side}_elbow"]] - joints[:, INTERNAL_INDEX[f"{side}_shoulder"]]
            fore = joints[:, INTERNAL_INDEX[f"{side}_wrist"]] - joints[:, INTERNAL_INDEX[f"{side}_elbow"]]
            # The measured bend of the elbow is the flexion DOF, within its 0..150 degree limit.
            np.testing.assert_allclose(_angle(upper, fore), angles[:, DOF_INDEX[f"{side}_elbow_flex"]], atol=1e-4)
            thigh = joints[:, INTERNAL_INDEX[f"{side}_knee"]] - joints[:, INTERNAL_INDEX[f"{side}_hip"]]
            shin = joints[:, INTERNAL_INDEX[f"{side}_ankle"]] - joints[:, INTERNAL_INDEX[f"{side}_knee"]]
            assert (_angle(thigh, shin) <= 150 + 1.5).all()


def test_rest_pose_is_the_sum_of_offsets():
    subject = make_subject("S1")
    joints = forward_kinematics(np.zeros(N_DOFS), np.zeros(3), subject.offsets)[0]
    for j in range(1, N_INTERNAL):
        np.testing.assert_allclose(joints[j] - joints[PARENT_INDEX[j]], subject.offsets[j])


def test_knee_bends_backwards_and_elbow_forwards():
    angles = np.zeros(N_DOFS)
    angles[DOF_INDEX["l_knee_flex"]] = 90
    angles[DOF_INDEX["l_elbow_flex"]] = 90
    joints = forward_kinematics(angles, np.zeros(3))[0]
    knee_to_ankle = joints[INTERNAL_INDEX["l_ankle"]] - joints[INTERNAL_INDEX["l_knee"]]
    elbow_to_wrist = joints[INTERNAL_INDEX["l_wrist"]] - joints[INTERNAL_INDEX["l_elbow"]]
    # +z is the direction the subject faces.
    np.testing.assert_allclose(knee_to_ankle, [0.0, 0.01, -0.41], atol=1e-12)
    np.testing.assert_allclose(elbow_to_wrist, [0.0, 0.0, 0.255], atol=1e-12)


def test_subjects_are_fixed_and_distinct():
    assert make_subject("S9") == make_subject("S9")
    heights = {make_subject(s).height for s in SUBJECTS}
    assert len(heights) == len(SUBJECTS)


@pytest.mark.parametrize("name", list(CONVENTIONS))
def test_conventions_flip_and_limbs(name):
    js = CONVENTIONS[name]
    perm = js.flip_permutation
    assert sorted(perm) == list(range(js.n_joints))
    for i, n in enumerate(js.names):
        assert js.names[perm[i]] == mirror_name(n)
    assert (perm[perm] == np.arange(js.n_joints)).all()
    assert js.limb_index.max() < js.n_joints
    assert js.n_joints == {"mpii16": 16, "coco17": 17, "h36m17": 17}[name]
