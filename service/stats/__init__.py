"""Counts and timings of findings for agencies' dashboards."""
