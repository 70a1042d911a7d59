"""``python -m service.sandbox [--host H] [--port P] [--seed N] [--pages N] ...``."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from pathlib import Path

from service.sandbox.app import run_sandbox
from service.sandbox.config import SandboxConfig


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="sandbox", description="Graph API sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--seed", type=int, default=None, help="seed demo content")
    parser.add_argument("--pages", type=int, default=None)
    parser.add_argument("--posts-per-page", type=int, default=None)
    parser.add_argument("--comments-per-post", type=int, default=None)
    parser.add_argument("--webhook-delay", type=float, default=None, help="seconds")
    parser.add_argument(
        "--webhook-connections", type=int, default=None, help="deliveries in flight at once"
    )
    parser.add_argument("--state-file", type=Path, default=None, help="keep the platform here")
    args = parser.parse_args(argv)
    config = SandboxConfig.from_env()
    overrides = {
        "seed": args.seed,
        "pages": args.pages,
        "seed_posts_per_page": args.posts_per_page,
        "seed_comments_per_post": args.comments_per_post,
        "webhook_delay_seconds": args.webhook_delay,
        "webhook_max_connections": args.webhook_connections,
        "state_file": args.state_file,
    }
    config = dataclasses.replace(config, **{k: v for k, v in overrides.items() if v is not None})
    run_sandbox(args.host, args.port, config)


if __name__ == "__main__":
    main()
