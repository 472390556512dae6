"""Reporting: the artifact registry, figure helpers and the HTML report."""

from poselab.reporting.registry import Registry, headline, save_figure, save_table

__all__ = ["Registry", "headline", "save_figure", "save_table"]
