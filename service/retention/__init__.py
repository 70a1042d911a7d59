"""How long Wallguard keeps what it holds, and the purge that enforces it.

Settings are per tenant with an optional override per client (``models.RetentionSettings``);
``service.retention.purge`` removes what is older, kind by kind, in bounded batches.
"""
