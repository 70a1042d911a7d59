"""The quality bar on both labelled corpora, measured by their own scorer.

The corpora live next to the repository (``../shared/eval`` from its root;
``WALLGUARD_EVAL_DIR`` points elsewhere).  They are regression checks: the engine is
judged on unseen comments of the same kind, which the variation properties
(``test_variations.py``) stand in for.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.cli import jsonl

REPO = Path(__file__).resolve().parents[2]
EVAL_DIR = Path(os.environ.get("WALLGUARD_EVAL_DIR", REPO.parent / "shared" / "eval"))


@pytest.mark.parametrize("corpus", ["dev.jsonl", "dev-b.jsonl"])
def test_corpus_meets_the_quality_bar(corpus: str, tmp_path: Path) -> None:
    gold = EVAL_DIR / corpus
    if not gold.exists():
        pytest.skip(f"evaluation corpus {gold} not here")
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
    assert result["comment"]["precision"] >= 0.99
    low = {kind: block["f1"] for kind, block in result["per_type"].items() if block["f1"] < 0.95}
    assert low == {}
    assert result["missing_ids"] == []
