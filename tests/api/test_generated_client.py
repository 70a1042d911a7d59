"""The Python SDK an agency generates from the committed document (openapi-python-client) calls
every operation of a running server with an API key: no operation is left without the key
(no 401), and every answer parses into the generated models (a field or enum value the document
does not declare would fail here)."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import inspect
import json
import pkgutil
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, get_type_hints

import pytest

from service.db import Database
from service.settings import Settings
from tests.api.test_change_feeds import T0, seed_findings
from tests.conftest import MakeTenant, make_settings
from tests.helpers import ApiServer

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
METHODS = ("get", "put", "post", "patch", "delete")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@pytest.fixture(scope="module")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    root = tmp_path_factory.mktemp("sdk")
    config = root / "config.yaml"
    # No formatting hooks: the generated code is imported, not read.
    config.write_text("post_hooks: []\npackage_name_override: wallguard_sdk\n")
    generator = Path(sys.executable).parent / "openapi-python-client"
    result = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(SPEC),
            "--output-path",
            str(root / "wallguard_sdk"),
            "--meta",
            "none",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Every response and parameter understood: the generator warns about what it had to skip.
    assert "Warning" not in result.stdout, result.stdout
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module("wallguard_sdk")
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m.split(".")[0] == "wallguard_sdk"]:
            del sys.modules[name]


def _operations(sdk: ModuleType) -> dict[str, ModuleType]:
    api = importlib.import_module(sdk.__name__ + ".api")
    found: dict[str, ModuleType] = {}
    for tag in pkgutil.iter_modules(api.__path__):
        package = importlib.import_module(f"{api.__name__}.{tag.name}")
        for op in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{op.name}")
            if hasattr(module, "sync_detailed"):
                found[op.name] = module
    return found


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _call_order(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    ops = [
        (path, method, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]
    # Deletions last, so that nothing a later call needs (the tenant itself) is gone before it.
    return sorted(ops, key=lambda o: (o[1] == "delete", o[0].count("/") == 2, o[0]))


@pytest.mark.e2e
async def test_generated_python_client_calls_every_operation_with_its_key(
    sdk: ModuleType, database_url: str, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    # The SDK is synchronous (as most agency scripts are); the server runs in its own thread.
    await asyncio.to_thread(_call_everything, sdk, database_url, tenant.api_key)


@pytest.mark.e2e
async def test_the_readme_dashboard_sync_runs_as_written(
    sdk: ModuleType, database_url: str, make_tenant: MakeTenant, db: Database, settings: Settings
) -> None:
    tenant = await make_tenant()
    ids = await seed_findings(db, settings, tenant.tenant_id, [T0, T0, T0 + dt.timedelta(hours=1)])
    readme = (SPEC.parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Build a dashboard", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    # The function as written; the usage lines after it point at a placeholder host.
    definitions = code.split("\nwith AuthenticatedClient", 1)[0].replace(
        "wallguard_sdk", sdk.__name__
    )

    def run() -> tuple[dict[Any, Any], dt.datetime]:
        namespace: dict[str, Any] = {}
        exec(compile(definitions, "README.md", "exec"), namespace)
        with (
            ApiServer(make_settings(database_url)) as server,
            sdk.AuthenticatedClient(base_url=server.url, token=tenant.api_key) as client,
        ):
            store: dict[Any, Any] = {}
            checkpoint = namespace["sync_findings"](client, T0 - dt.timedelta(days=1), store)
            return store, checkpoint

    store, checkpoint = await asyncio.to_thread(run)
    assert set(store) == set(ids)
    assert checkpoint == T0 + dt.timedelta(hours=1) - dt.timedelta(minutes=1)


def _call_everything(sdk: ModuleType, database_url: str, api_key: str) -> None:
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    modules = _operations(sdk)
    settings = make_settings(
        database_url,
        WALLGUARD_RATE_LIMIT_PER_SECOND="10000",
        WALLGUARD_RATE_LIMIT_PER_MINUTE="100000",
    )
    called: dict[str, int] = {}
    with (
        ApiServer(settings) as server,
        sdk.AuthenticatedClient(base_url=server.url, token=api_key) as client,
    ):
        for _path, _method, op in _call_order(spec):
            op_id = op["operationId"]
            module = modules[_snake(op_id)]
            function = module.sync_detailed
            hints = get_type_hints(function)
            kwargs: dict[str, Any] = {"client": client}
            declared = {
                _snake(p["name"]): p
                for p in map(lambda p: _resolve(spec, p), op.get("parameters", []))
            }
            for name, parameter in inspect.signature(function).parameters.items():
                if name == "client" or parameter.default is not inspect.Parameter.empty:
                    continue
                if name == "body":
                    example = op["requestBody"]["content"]["application/json"]["example"]
                    kwargs["body"] = hints["body"].from_dict(example)
                elif declared[name]["in"] == "path":
                    # A fresh id, so the answer is a 404, never a 401.
                    kwargs[name] = uuid.uuid4()
                else:  # a required query parameter: its documented example, typed
                    kind = hints[name]
                    kwargs[name] = kind(declared[name]["example"])
            response = function(**kwargs)
            called[op_id] = response.status_code
            assert response.status_code != 401, (op_id, response.content)
            assert response.status_code != 500, (op_id, response.content)
            if response.status_code < 300 and response.content:
                assert response.parsed is not None, (op_id, response.content)
    assert set(called) == {op["operationId"] for _, _, op in _call_order(spec)}
    # The public probes are called without a key in the SDK; everything else carried it.
    assert called["health"] == 200
