"""The quality bar on the labelled development corpus, measured by its own scorer."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.cli import jsonl

EVAL_DIR = Path(os.environ.get("WALLGUARD_EVAL_DIR", "/work/shared/eval"))


@pytest.mark.skipif(not (EVAL_DIR / "dev.jsonl").exists(), reason="evaluation corpus not here")
def test_development_corpus_meets_the_quality_bar(tmp_path: Path) -> None:
    gold = EVAL_DIR / "dev.jsonl"
    out = io.BytesIO()
    assert jsonl.run(io.BytesIO(gold.read_bytes()), out, []) == 0
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_bytes(out.getvalue())

    done = subprocess.run(
        [sys.executable, str(EVAL_DIR / "score.py"), str(gold), str(predictions), "--json"],
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(done.stdout)

    assert result["comment"]["recall"] >= 0.99
    assert result["comment"]["precision"] >= 0.98
    low = {kind: block["f1"] for kind, block in result["per_type"].items() if block["f1"] < 0.95}
    assert low == {}
    assert result["missing_ids"] == []
