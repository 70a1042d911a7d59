"""Moderation actions on the platform (hide, unhide, reply), each done exactly once."""
