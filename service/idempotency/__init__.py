"""Idempotency keys: a POST that creates something, sent again with the same key, gets the first
answer instead of creating a second thing (service/api/idempotency.py applies it)."""
