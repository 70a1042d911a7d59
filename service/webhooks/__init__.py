"""Outbound webhooks (service/webhooks/service.py explains the flow)."""
