"""Data: the synthetic pose world, real-data loaders, joint conventions."""
