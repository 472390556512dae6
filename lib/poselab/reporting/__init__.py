"""Reporting: the artifact registry, figure helpers and the HTML report."""
