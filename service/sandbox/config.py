"""Configuration of the platform sandbox."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DEFAULT_APP_ID = "sandbox-app"
DEFAULT_APP_SECRET = "sandbox-secret"
DEFAULT_USER_NAME = "Sandra Sandbox"
DEFAULT_PAGES = 2
DEFAULT_SEED = 1


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    """What the fake platform looks like when it starts (control endpoints change it later).

    ``seed``: when set, the sandbox starts with deterministic demo content from that number
    (``seed_posts_per_page`` x ``seed_comments_per_post`` on each of the user's pages).
    """

    app_id: str = DEFAULT_APP_ID
    app_secret: str = DEFAULT_APP_SECRET
    app_name: str = "Wallguard Sandbox"
    user_name: str = DEFAULT_USER_NAME
    pages: int = DEFAULT_PAGES
    link_instagram: bool = True
    webhook_delay_seconds: float = 0.0
    webhook_max_batch: int = 5
    webhook_max_attempts: int = 4
    webhook_retry_base_seconds: float = 0.2
    webhook_timeout_seconds: float = 5.0
    # Deliveries in flight at once, each on a kept-alive connection: under load the callback sees
    # this many concurrent POSTs at most (more wait for a free connection, not counted against
    # the timeout), and the sandbox never pays a TCP handshake per delivery.
    webhook_max_connections: int = 32
    seed: int | None = None
    seed_posts_per_page: int = 5
    seed_comments_per_post: int = 8
    # Rolling one-hour quotas behind X-App-Usage and X-Business-Use-Case-Usage percentages.
    app_calls_per_hour: int = 1_000_000
    page_calls_per_hour: int = 480_000
    call_log_size: int = 100_000
    # Where the numbering of pages, accounts, posts and comments starts: sandboxes that share
    # one Wallguard database (tests) give each other room so their ids never meet.
    id_offset: int = 0
    # Verified by the sandbox only when the client sends appsecret_proof.
    check_appsecret_proof: bool = True
    # Where the platform is kept between runs (service/sandbox/persistence.py); None: memory only.
    state_file: Path | None = None
    # Where webhooks really go when the registered callback URL is the API's public one but the
    # sandbox cannot reach it by that name (in compose, "localhost:8000" is the sandbox's own
    # container): scheme, host and port of callbacks are replaced by this base, path kept.
    webhook_base_url: str | None = None

    def reach(self, callback_url: str) -> str:
        """The URL the sandbox calls for a registered callback URL."""
        if not self.webhook_base_url:
            return callback_url
        base = urlsplit(self.webhook_base_url)
        return urlunsplit(urlsplit(callback_url)._replace(scheme=base.scheme, netloc=base.netloc))

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, seed: bool | int | None = None
    ) -> SandboxConfig:
        """META_APP_ID / META_APP_SECRET (shared with the service) and WALLGUARD_SANDBOX_*.

        ``seed``: True seeds demo content (WALLGUARD_SANDBOX_SEED or 1), False none, an int
        that seed number; None leaves it to WALLGUARD_SANDBOX_SEED.
        """
        values = os.environ if env is None else env
        raw_seed = values.get("WALLGUARD_SANDBOX_SEED")
        env_seed = int(raw_seed) if raw_seed else None
        chosen: int | None
        if seed is None:
            chosen = env_seed
        elif isinstance(seed, bool):
            chosen = (env_seed if env_seed is not None else DEFAULT_SEED) if seed else None
        else:
            chosen = seed
        state_file = values.get("WALLGUARD_SANDBOX_STATE_FILE")
        return cls(
            state_file=Path(state_file) if state_file else None,
            webhook_base_url=values.get("WALLGUARD_SANDBOX_WEBHOOK_BASE_URL") or None,
            app_id=values.get("META_APP_ID") or DEFAULT_APP_ID,
            app_secret=values.get("META_APP_SECRET") or DEFAULT_APP_SECRET,
            user_name=values.get("WALLGUARD_SANDBOX_USER") or DEFAULT_USER_NAME,
            pages=int(values.get("WALLGUARD_SANDBOX_PAGES") or DEFAULT_PAGES),
            webhook_delay_seconds=float(values.get("WALLGUARD_SANDBOX_WEBHOOK_DELAY") or 0.0),
            seed=chosen,
        )
