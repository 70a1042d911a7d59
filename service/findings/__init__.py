"""Findings: comments found exposing personal data, stored masked, never the raw value."""
