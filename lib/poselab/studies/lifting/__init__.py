"""Unsupervised 3D lifting with a VAE-GAN (notebook 07; Budaraju 2020).

``settings`` the study's settings per profile (``LiftingConfig``);
``data``     2D/3D pose pairs (synthetic or Human3.6M in the VideoPose3D layout), normalised;
``models``   encoder, decoder and discriminator exactly as the thesis's Appendix A;
``cameras``  Human3.6M's published camera calibration;
``geometry`` reprojection, perspective projection and random novel views;
``losses``   KL divergence, the cyclic beta schedule, label smoothing;
``train``    the alternating VAE-GAN training and the supervised VAE baseline;
``metrics``  Procrustes alignment, MPJPE and P-MPJPE, zero-variance and best-of-k predictions;
``tables``, ``figures``  the notebook's tables, ``findings(...)`` and figures.
"""
