from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from service.api.app import create_app
from service.settings import Settings
from tests.scans.support import with_issue_controllers


@pytest.fixture(scope="module")
async def api(settings: Settings) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    app = with_issue_controllers(create_app(settings))
    async with AsyncTestClient(app=app) as test_client:
        yield test_client
