"""A fake Meta platform (Graph API + webhooks) for demos, tests and benchmarks.

Run it with ``wallguard sandbox [--port P]`` or ``python -m service.sandbox``; see
``service/sandbox/control.py`` for the ``/_sandbox`` control endpoints and
``/_sandbox/schema`` for their OpenAPI document.
"""

from service.sandbox.app import RunningSandbox, create_sandbox_app, run_sandbox, sandbox_server
from service.sandbox.config import SandboxConfig
from service.sandbox.state import Store

__all__ = [
    "RunningSandbox",
    "SandboxConfig",
    "Store",
    "create_sandbox_app",
    "run_sandbox",
    "sandbox_server",
]
