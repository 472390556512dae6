"""The notebooks' thin layer: one module per study."""
