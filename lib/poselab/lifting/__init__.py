"""Unsupervised 3D lifting with a VAE-GAN (seed 004, notebook 07).

``config``   the study's settings per profile;
``data``     2D/3D pose pairs (synthetic or Human3.6M in the VideoPose3D layout), normalised;
``geometry`` reprojection, perspective projection and random novel views;
``models``   encoder, decoder and discriminator exactly as the thesis's Appendix A;
``losses``   KL divergence, the cyclic beta schedule, label smoothing;
``train``    the alternating VAE-GAN training and the supervised VAE baseline;
``metrics``  Procrustes alignment, MPJPE and P-MPJPE, zero-variance and best-of-k predictions;
``tables``, ``figures``  the notebook's tables and figures.
"""
