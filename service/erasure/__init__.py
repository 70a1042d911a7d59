"""The data subject's rights: erasure (GDPR art. 17) and access (art. 15).

An erasure request (``POST /v1/erasure-requests``) names an author on a platform, or a finding
whose author it is. A job removes what Wallguard holds about them (findings, inbox events,
finished moderation actions), optionally deletes their comments on the page, and leaves a
tombstone: a keyed hash (per-tenant HMAC) of the author and of each comment, checked wherever
new data enters, so the next poll, backfill or redelivered webhook does not bring them back.
Subject access (``GET /v1/subject-data``) lists what is held about an author, masked.
"""
