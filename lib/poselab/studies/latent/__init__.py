"""The latent space of the hourglass (notebook 04; "Understanding the Model", §1.3-1.4): bottleneck features of
notebook 02's main model, their PCA plane, K-means over a range of K judged by the silhouette, and what the clusters
share.

``settings``    samples, the K range, restarts;
``features``    bottleneck features, the silhouette (the source's Algorithm 1), K-means sweeps, cluster meaning;
``experiment``  one sample set clustered (``cluster_set``);
``tables``      T04.1, T04.2 and ``findings(...)``;
``figures``     F04.1-F04.5.
"""
