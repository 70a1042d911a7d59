"""API keys: how agencies authenticate over REST."""
