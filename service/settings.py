"""Typed settings, read once from the environment.

The names are part of the outside contract (shared/INTERFACES.md); everything else has a
``WALLGUARD_`` prefix. ``get_settings()`` caches, so a process reads its environment once; tests
build their own ``Settings`` with ``Settings.from_env(overrides)``.
"""

from __future__ import annotations

import base64
import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from service.errors import ConfigurationError

DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/wallguard"
# A fixed development key: only used when no key is configured and the environment is "dev" or
# "test", so a production process without WALLGUARD_ENCRYPTION_KEYS refuses to start instead.
_DEV_ENCRYPTION_KEY = base64.urlsafe_b64encode(b"wallguard-dev-key-not-for-prod!!").decode()


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, got {raw!r}") from None


@dataclass(frozen=True, slots=True)
class Settings:
    environment: str = "dev"
    database_url: str = DEFAULT_DATABASE_URL
    # Schema changes need the table owner; the app itself runs as `db_app_role`, which RLS binds.
    migration_database_url: str = DEFAULT_DATABASE_URL
    db_app_role: str = "wallguard_app"
    # System work (cross-tenant) SET LOCAL ROLEs to this one; RLS honours app.system only for it.
    db_system_role: str = "wallguard_system"
    db_pool_size: int = 20
    redis_url: str = "redis://127.0.0.1:6379/0"
    queue_name: str = "wallguard:queue"
    encryption_keys: tuple[str, ...] = ()
    # Keys HMAC-hashes of personal data (per tenant, derived) and OAuth state; distinct from the
    # token encryption keys so that rotating one does not invalidate the other.
    secret_key: str = ""
    public_url: str = "http://127.0.0.1:8000"
    meta_app_id: str = ""
    meta_app_secret: str = ""
    meta_webhook_verify_token: str = ""
    meta_graph_url: str = "https://graph.facebook.com"
    meta_dialog_url: str = "https://www.facebook.com"
    meta_graph_version: str = "v21.0"
    log_level: str = "INFO"
    log_json: bool = True
    max_body_bytes: int = 1_048_576
    api_key_touch_seconds: int = 60
    worker_poll_delay: float = 0.05
    worker_max_jobs: int = 20
    # Posts active this recently are polled too (Meta's webhooks can be minutes late).
    poll_window_seconds: int = 7200
    poll_interval_seconds: int = 30
    # Pending inbox events and actions older than this are sent again by the reconcile cron.
    reconcile_stale_seconds: int = 10
    # Requests per API key: a sustained rate (a moving window per minute) and a burst (per
    # second), enforced in Redis so every API process shares the count (service/api/ratelimit.py).
    rate_limit_per_minute: int = 600
    rate_limit_per_second: int = 20
    # How long a POST's Idempotency-Key is remembered (its first answer replayed).
    idempotency_ttl_seconds: int = 86_400
    # Outbound webhooks: loopback and private addresses are refused unless this is on (it is
    # by default in dev and test, for local receivers such as `wallguard webhooks listen`).
    webhooks_allow_private: bool = False
    webhooks_timeout_seconds: float = 15.0
    # Attempts in flight to one endpoint per worker process: a slow endpoint holds at most
    # this many job slots, the others keep flowing.
    webhooks_endpoint_concurrency: int = 8
    # The worker serves its Prometheus metrics on this port (0: not served).
    worker_metrics_port: int = 0

    @classmethod
    def from_env(cls, overrides: Mapping[str, str] | None = None) -> Settings:
        env: dict[str, str] = dict(os.environ)
        if overrides:
            env.update(overrides)
        # Every default is the field's own, declared once above.
        d = _DEFAULTS
        environment = env.get("WALLGUARD_ENV", d.environment).strip().lower()
        database_url = env.get("DATABASE_URL") or d.database_url
        if not database_url.startswith("postgresql+asyncpg://"):
            if database_url.startswith(("postgresql://", "postgres://")):
                database_url = "postgresql+asyncpg://" + database_url.split("://", 1)[1]
            else:
                raise ConfigurationError("DATABASE_URL must be a postgresql+asyncpg:// URL")
        keys = tuple(
            k.strip() for k in env.get("WALLGUARD_ENCRYPTION_KEYS", "").split(",") if k.strip()
        )
        secret_key = env.get("WALLGUARD_SECRET_KEY", "")
        if environment not in {"dev", "test"}:
            if not keys:
                raise ConfigurationError("WALLGUARD_ENCRYPTION_KEYS is required outside dev/test")
            if not secret_key:
                raise ConfigurationError("WALLGUARD_SECRET_KEY is required outside dev/test")
        roles = {}
        for name, default in (
            ("WALLGUARD_DB_APP_ROLE", d.db_app_role),
            ("WALLGUARD_DB_SYSTEM_ROLE", d.db_system_role),
        ):
            role = env.get(name, default)
            if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
                # It is interpolated into SET ROLE and GRANT statements.
                raise ConfigurationError(f"{name} must be a lower-case SQL identifier")
            roles[name] = role
        poll_interval = _int(env, "WALLGUARD_POLL_INTERVAL_SECONDS", d.poll_interval_seconds)
        if poll_interval < 5:
            # The poll cron ticks every 5 s (service/workers/jobs.py).
            raise ConfigurationError("WALLGUARD_POLL_INTERVAL_SECONDS must be at least 5")
        return cls(
            environment=environment,
            database_url=database_url,
            migration_database_url=env.get("WALLGUARD_MIGRATION_DATABASE_URL") or database_url,
            db_app_role=roles["WALLGUARD_DB_APP_ROLE"],
            db_system_role=roles["WALLGUARD_DB_SYSTEM_ROLE"],
            db_pool_size=_int(env, "WALLGUARD_DB_POOL_SIZE", d.db_pool_size),
            redis_url=env.get("REDIS_URL") or d.redis_url,
            queue_name=env.get("WALLGUARD_QUEUE_NAME", d.queue_name),
            encryption_keys=keys or (_DEV_ENCRYPTION_KEY,),
            secret_key=secret_key or "wallguard-dev-secret",
            public_url=(env.get("WALLGUARD_PUBLIC_URL") or d.public_url).rstrip("/"),
            meta_app_id=env.get("META_APP_ID", d.meta_app_id),
            meta_app_secret=env.get("META_APP_SECRET", d.meta_app_secret),
            meta_webhook_verify_token=env.get(
                "META_WEBHOOK_VERIFY_TOKEN", d.meta_webhook_verify_token
            ),
            meta_graph_url=(env.get("META_GRAPH_URL") or d.meta_graph_url).rstrip("/"),
            meta_dialog_url=(env.get("META_DIALOG_URL") or d.meta_dialog_url).rstrip("/"),
            meta_graph_version=env.get("META_GRAPH_VERSION", d.meta_graph_version),
            log_level=env.get("WALLGUARD_LOG_LEVEL", d.log_level).upper(),
            log_json=_bool(env.get("WALLGUARD_LOG_JSON", str(d.log_json))),
            max_body_bytes=_int(env, "WALLGUARD_MAX_BODY_BYTES", d.max_body_bytes),
            api_key_touch_seconds=_int(
                env, "WALLGUARD_API_KEY_TOUCH_SECONDS", d.api_key_touch_seconds
            ),
            worker_poll_delay=_float(env, "WALLGUARD_WORKER_POLL_DELAY", d.worker_poll_delay),
            worker_max_jobs=_int(env, "WALLGUARD_WORKER_MAX_JOBS", d.worker_max_jobs),
            poll_window_seconds=_int(env, "WALLGUARD_POLL_WINDOW_SECONDS", d.poll_window_seconds),
            poll_interval_seconds=poll_interval,
            reconcile_stale_seconds=_int(
                env, "WALLGUARD_RECONCILE_STALE_SECONDS", d.reconcile_stale_seconds
            ),
            rate_limit_per_minute=_int(
                env, "WALLGUARD_RATE_LIMIT_PER_MINUTE", d.rate_limit_per_minute
            ),
            rate_limit_per_second=_int(
                env, "WALLGUARD_RATE_LIMIT_PER_SECOND", d.rate_limit_per_second
            ),
            idempotency_ttl_seconds=_int(
                env, "WALLGUARD_IDEMPOTENCY_TTL_SECONDS", d.idempotency_ttl_seconds
            ),
            webhooks_allow_private=_bool(
                env.get(
                    "WALLGUARD_WEBHOOKS_ALLOW_PRIVATE",
                    "true" if environment in {"dev", "test"} else "false",
                )
            ),
            webhooks_timeout_seconds=_float(
                env, "WALLGUARD_WEBHOOKS_TIMEOUT_SECONDS", d.webhooks_timeout_seconds
            ),
            webhooks_endpoint_concurrency=max(
                1,
                _int(
                    env, "WALLGUARD_WEBHOOKS_ENDPOINT_CONCURRENCY", d.webhooks_endpoint_concurrency
                ),
            ),
            worker_metrics_port=_int(env, "WALLGUARD_WORKER_METRICS_PORT", d.worker_metrics_port),
        )


_DEFAULTS = Settings()


@functools.cache
def get_settings() -> Settings:
    return Settings.from_env()
