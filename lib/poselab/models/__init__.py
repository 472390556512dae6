"""Pose estimation networks: one module per architecture, building blocks first, the network last."""
