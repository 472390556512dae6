"""PoseIG: integrated-gradient attribution for pose estimation (notebook 05; He et al. 2023).

``settings``       the study's settings per profile (``PoseIGStudy``, ``SimpleBaselineStudy``);
``paths``          integration paths: straight lines from solid or blurred baselines, and the blur path;
``ig``             integrated gradients along a discretised path for every joint at once (batched backward),
                   the authors' per-joint loop it must equal, completeness, and captum's straight-line IG;
``outputs``        the common output space (soft-argmax joint coordinates of any model, on the source image)
                   and the per-joint targets exp(-0.3 d);
``inference``      a trained network rewritten for input gradients (BatchNorm folded into a multiply-add);
``indices``        attribution maps and the diffusion, foreground and localisation indices (DI, FI, LI);
``perturbation``   the image perturbation test and its ratio R_E (Eqs. 1-2);
``randomization``  the cascading model randomisation test;
``joints``         trunk / branch / leaf groups, joint pairs and keypoint inversion;
``attribute``      one model explained over a set of people, and the speed comparison;
``sanity``         the sanity tests (baselines, output spaces, perturbation, randomisation, captum);
``experiment``     which models are explained (loaded from notebooks 02 and 06, or trained here), and the people;
``tables``, ``figures``  the notebook's tables, ``findings(...)`` and figures.
"""
