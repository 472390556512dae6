"""One folder per study: its settings, the experiment, its tables with ``findings(...)``, and its figures.

``hourglass`` (notebook 02), ``skips`` (03), ``latent`` (04), ``poseig`` (05), ``hrnet`` (06), ``lifting`` (07).
"""
