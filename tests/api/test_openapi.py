from __future__ import annotations

import json
from pathlib import Path

from litestar import Litestar
from litestar.testing import AsyncTestClient
from openapi_spec_validator import validate

from service.api.openapi import render_openapi

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


async def test_served_document_is_valid_and_equals_the_committed_file(
    client: AsyncTestClient[Litestar],
) -> None:
    served = (await client.get("/schema/openapi.json")).json()
    validate(served)
    committed = json.loads(SPEC.read_text(encoding="utf-8"))
    assert served == committed, "openapi/openapi.json drifted: run `make openapi` and commit it"
    assert render_openapi() == SPEC.read_text(encoding="utf-8")


def test_every_operation_has_a_stable_id_and_documents_its_problems() -> None:
    spec = json.loads(render_openapi())
    seen: set[str] = set()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            op_id = op.get("operationId")
            assert op_id and op_id[0].islower() and "_" not in op_id, (path, method, op_id)
            assert op_id not in seen
            seen.add(op_id)
            if op.get("security"):
                assert "401" in op["responses"], (path, method)
                problem = op["responses"]["401"]["content"]
                assert "application/problem+json" in problem


async def test_interactive_docs_are_served(client: AsyncTestClient[Litestar]) -> None:
    r = await client.get("/schema")
    assert r.status_code == 200
    assert "text/html" in r.headers["content-type"]
