"""Moderation rules that need no platform: how a failure is described and retried, which
language a reply takes and how its template is filled in.

Performing actions on the platform is a pipeline step (service/pipeline/actions.py).
"""

from __future__ import annotations

from service.locales import Language
from service.platforms import errors as platform
from service.policies.schemas import EffectivePolicy

ACTOR = "system:pipeline"


def describe(exc: platform.PlatformError) -> str:
    """An error for last_error: Graph's numbers only. Its message can quote request content."""
    return (f"{type(exc).__name__} (http {exc.status}, code {exc.code}, subcode {exc.subcode})")[
        :500
    ]


def backoff(attempt: int) -> float:
    return float(min(300, 5 * 2 ** max(0, attempt - 1)))


def choose_language(
    policy: EffectivePolicy, comment_language: str | None, *fallbacks: str | None
) -> str:
    """The commenter's language when there is a template for it, else the page's default."""
    for candidate in (comment_language, policy.default_language, *fallbacks):
        if candidate and candidate in policy.reply_templates:
            return candidate
    return Language.EN.value


def render_reply(template: str, *, private_channel_url: str, client_name: str) -> str:
    # Plain replacement, not str.format: a template is tenant input.
    return (
        template.replace("{private_channel_url}", private_channel_url)
        .replace("{client_name}", client_name)
        .strip()
    )
