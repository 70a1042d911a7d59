"""Erasure runs through the real pipeline: the pipeline tests' fixtures, with a sandbox of this
package's own whose ids do not repeat the pipeline tests' (webhooks are routed by page id, and
a page id met twice would be two tenants watching one page)."""

from collections.abc import Iterator

import pytest

from service.sandbox import RunningSandbox, SandboxConfig
from tests.pipeline.conftest import (  # noqa: F401
    APP_ID,
    APP_SECRET,
    api,
    control,
    ctx,
    db,
    graph,
    pctx,
    queue,
    receiver,
    sandbox,
    settings,
)


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[RunningSandbox]:
    config = SandboxConfig(app_id=APP_ID, app_secret=APP_SECRET, pages=1, id_offset=3_000_000)
    with RunningSandbox(config) as running:
        yield running
