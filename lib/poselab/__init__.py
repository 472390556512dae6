"""poselab: a reproducible research report on how human pose estimation networks work."""

__version__ = "0.1.0"
