"""Property tests over the OpenAPI document (schemathesis) against the in-process ASGI app on the
test database: generated requests, valid and not, for every operation; none may answer 5xx, and
every answer must be one the document lists, in the documented shape.

Bounded (``MAX_EXAMPLES`` per operation, derandomised so every run sends the same requests) to
keep the suite within minutes; the cases it found are pinned in tests/api/test_hardening.py.
A deeper run: ``WALLGUARD_FUZZ_EXAMPLES=200 WALLGUARD_FUZZ_COVERAGE=1 pytest tests/api/test_fuzz.py``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service.api.app import create_app
from service.apikeys.service import onboard_tenant
from service.db import Database
from service.tenancy.models import TenantKind
from tests.conftest import make_settings

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
MAX_EXAMPLES = int(os.environ.get("WALLGUARD_FUZZ_EXAMPLES", "8"))
# Schemathesis' coverage phase (boundary and invalid values for every field, several hundred
# requests an operation) takes about 90 s here: run it on demand, not in every `make test`.
COVERAGE = os.environ.get("WALLGUARD_FUZZ_COVERAGE", "") in {"1", "true", "yes"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


async def _tenant_key(database_url: str) -> str:
    db = Database(make_settings(database_url))
    try:
        async with db.system_unit_of_work() as uow:
            onboarded = await onboard_tenant(uow, "fuzzed", TenantKind.AGENCY)
    finally:
        await db.dispose()
    key: str = onboarded.api_key
    return key


@pytest.fixture(scope="module")
def api_key(database_url: str) -> str:
    return asyncio.run(_tenant_key(database_url))


# The committed document (tests/api/test_openapi.py keeps it equal to the served one). Loaded at
# import, not from a fixture: schemathesis' lazy `from_fixture` fails on pytest 9 (it reads the
# removed `Function._nodeid`).
schema = schemathesis.openapi.from_path(SPEC)
# In-process: the ASGI test client's host.
schema.config.update(base_url="http://testserver")
schema.config.phases.coverage.enabled = COVERAGE


@pytest.fixture(scope="module")
def asgi_client(database_url: str) -> Iterator[requests.Session]:
    """Calls go to the ASGI app in this process (its lifespan started once, on first use)."""
    # A small pool, closed after the module: schemathesis keeps an app's lifespan (and so its
    # connections) open until the process exits otherwise, and the server is shared.
    app: Any = create_app(make_settings(database_url, WALLGUARD_DB_POOL_SIZE="2"))
    try:
        with asgi.get_client(app) as client:
            yield client
    finally:
        asgi.shutdown_lifespans()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_a_server_error(
    case: schemathesis.Case[Any], api_key: str, asgi_client: requests.Session
) -> None:
    response = case.call(session=asgi_client, headers={"Authorization": f"Bearer {api_key}"})
    case.validate_response(response, checks=CHECKS)
