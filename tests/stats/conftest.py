from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.api.app import create_app
from service.settings import Settings
from tests.scanning.support import with_issue_controllers


@pytest.fixture(scope="module")
async def api(settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    app = with_issue_controllers(create_app(settings))
    async with AsyncTestClient(app=app) as test_client:
        yield test_client
