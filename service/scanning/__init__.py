"""Backfill scans of a page's history, with checkpoints and live progress."""
