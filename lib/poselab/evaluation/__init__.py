"""Evaluation: predictions (``predict``), scoring a model (``pck``), statistics over seeds
(``stats``) and the accuracy tables (``tables``)."""
