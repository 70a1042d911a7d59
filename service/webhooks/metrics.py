"""Prometheus metrics of outbound webhooks (the process's default registry: the API serves it at
/metrics, the worker on WALLGUARD_WORKER_METRICS_PORT)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

ATTEMPTS = Counter(
    "wallguard_webhook_attempts",
    "Webhook delivery attempts by outcome (succeeded, http_4xx, http_5xx, timeout, "
    "connect_error, refused, protocol_error, error)",
    ["outcome"],
)
DELIVERIES = Counter(
    "wallguard_webhook_deliveries",
    "Webhook deliveries settled, by final outcome (succeeded, failed, endpoint_disabled)",
    ["outcome"],
)
ATTEMPT_SECONDS = Histogram(
    "wallguard_webhook_attempt_seconds",
    "Time from sending a webhook to the receiver's answer (or the error)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30),
)
OLDEST_PENDING = Gauge(
    "wallguard_webhook_oldest_pending_seconds",
    "How long the most overdue pending delivery has been due (0 when none is overdue); "
    "updated by the reconcile cron",
)
