"""Talking to the social platforms: the Graph API client, its errors, webhook signatures."""

from service.platforms.errors import (
    PermissionMissing,
    PlatformBadRequest,
    PlatformError,
    PlatformNotFound,
    PlatformUnavailable,
    RateLimited,
    TokenInvalid,
)
from service.platforms.graph import GraphClient
from service.platforms.schemas import (
    AppUsage,
    BusinessUsage,
    Comment,
    IgComment,
    IgMedia,
    PageAccount,
    Post,
    SubscribedApp,
    Usage,
    UserToken,
)
from service.platforms.signatures import sign_body, verify_signature

__all__ = [
    "AppUsage",
    "BusinessUsage",
    "Comment",
    "GraphClient",
    "IgComment",
    "IgMedia",
    "PageAccount",
    "PermissionMissing",
    "PlatformBadRequest",
    "PlatformError",
    "PlatformNotFound",
    "PlatformUnavailable",
    "Post",
    "RateLimited",
    "SubscribedApp",
    "TokenInvalid",
    "Usage",
    "UserToken",
    "sign_body",
    "verify_signature",
]
