"""Tenants (agencies or companies) and their clients (the companies whose pages they guard)."""
