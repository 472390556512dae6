import numpy as np

from poselab.metrics import mpii_head_size, pck, pck_curve, per_sample_pck, unscored

GT = np.zeros((2, 3, 2))
PRED = np.array([[[3.0, 4.0], [1.0, 0.0], [0.0, 9.0]],     # errors 5, 1, 9
                 [[0.0, 2.0], [6.0, 8.0], [0.0, 0.5]]])    # errors 2, 10, 0.5
ANN = np.array([[True, True, True], [True, False, True]])  # sample 2's joint 1 is unannotated
NORM = np.array([10.0, 4.0])  # thresholds at alpha 0.5: 5 px and 2 px


def test_pck_on_hand_made_predictions():
    per_joint, mean = pck(PRED, GT, ANN, NORM, alpha=0.5)
    # joint 0: 5 <= 5 yes, 2 <= 2 yes -> 1.0; joint 1: 1 <= 5 yes, unannotated -> 1/1;
    # joint 2: 9 > 5 no, 0.5 <= 2 yes -> 0.5.  Mean over the 5 annotated joints: 4/5.
    np.testing.assert_allclose(per_joint, [1.0, 1.0, 0.5])
    assert mean == 0.8
    # The unannotated joint's huge error changes nothing.
    far = PRED.copy()
    far[1, 1] = [1000.0, 1000.0]
    assert pck(far, GT, ANN, NORM, 0.5)[1] == 0.8
    # Excluding joint 2 from the mean (like MPII's pelvis and thorax) -> 3/3.
    assert pck(PRED, GT, ANN, NORM, 0.5, exclude=(2,))[1] == 1.0
    np.testing.assert_allclose(per_sample_pck(PRED, GT, ANN, NORM, 0.5), [2 / 3, 1.0])


def test_never_annotated_joint_is_nan_and_curve_is_monotonic():
    ann = ANN.copy()
    ann[:, 1] = False
    per_joint, mean = pck(PRED, GT, ann, NORM, 0.5)
    assert np.isnan(per_joint[1]) and mean == 3 / 4
    curve = pck_curve(PRED, GT, ANN, NORM, np.linspace(0, 2, 9))
    assert curve[0] == 0.0 and curve[-1] == 1.0 and (np.diff(curve) >= 0).all()


def test_official_mpii_head_size():
    boxes = np.array([[[10.0, 20.0], [40.0, 60.0]]])  # diagonal 50 px
    np.testing.assert_allclose(mpii_head_size(boxes), [30.0])


def test_samples_without_a_normaliser_are_left_out_and_counted():
    gt = np.zeros((3, 2, 2))
    pred = np.array([[[1.0, 0.0], [0.0, 0.0]], [[10.0, 0.0], [0.0, 0.0]], [[50.0, 0.0], [50.0, 0.0]]])
    ann = np.ones((3, 2), bool)
    norm = np.array([4.0, 4.0, np.nan])  # the third sample has no head box: it must not count as wrong
    per_joint, mean = pck(pred, gt, ann, norm, 0.5)
    np.testing.assert_allclose(per_joint, [0.5, 1.0])
    assert mean == 0.75 and unscored(ann, norm) == 1
    np.testing.assert_allclose(per_sample_pck(pred, gt, ann, norm, 0.5), [1.0, 0.5, np.nan])
