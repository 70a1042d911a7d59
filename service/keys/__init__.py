"""Encryption keys at rest: rotation across every table that stores ciphertext."""
