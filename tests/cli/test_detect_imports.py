"""`wallguard detect` loads the detection engine and nothing of the service around it."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ["sqlalchemy", "asyncpg", "redis", "arq", "structlog", "litestar", "httpx", "service.db"]

PROBE = """
import json, sys
from service.cli import app  # what the console script loads
from service.cli import detect, jsonl  # the command and its codec
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {heavy} or m in {heavy})))
"""


def test_detect_command_imports_only_the_detection_engine() -> None:
    heavy = {m.split(".")[0] if not m.startswith("service.") else m for m in HEAVY}
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=repr(heavy))],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(result.stdout)
    assert loaded == []


def test_the_probe_would_see_a_heavy_import() -> None:
    # The same probe after loading the API: the check above can fail.
    probe = "import service.api.app\n" + PROBE.format(heavy=repr({"sqlalchemy", "litestar"}))
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert {"sqlalchemy", "litestar"} <= set(json.loads(result.stdout))
