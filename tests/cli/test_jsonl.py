"""``wallguard detect``'s JSON Lines loop."""

from __future__ import annotations

import io
import json

from service.cli import jsonl
from service.detection import MAX_TEXT_CHARS


def _run(data: bytes) -> tuple[int, list[dict[str, object]]]:
    out = io.BytesIO()
    code = jsonl.run(io.BytesIO(data), out, ["DK"])
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def test_findings_per_line_in_order() -> None:
    data = (
        b'{"id": "a", "text": "Ring til mig p\xc3\xa5 22 33 44 55", "lang": "da"}\n'
        b'{"id": "b", "text": "Ingen data her"}\n'
    )
    code, lines = _run(data)
    assert code == 0
    assert [line["id"] for line in lines] == ["a", "b"]
    findings = lines[0]["findings"]
    assert isinstance(findings, list) and len(findings) == 1
    finding: dict[str, object] = findings[0]
    assert {key: finding[key] for key in ("type", "start", "end")} == {
        "type": "PHONE_NUMBER",
        "start": 16,
        "end": 27,
    }
    assert isinstance(finding["score"], float) and 0.5 <= finding["score"] <= 1.0
    assert lines[1]["findings"] == []


def test_a_bad_line_yields_an_error_line_and_the_stream_goes_on() -> None:
    data = b"\n".join(
        [
            b'{"id": "1", "text": "tlf. 22 33 44 55"}',
            b"not json",
            b'{"id": "2", "text": "caf\xff"}',
            b'{"id": "3"}',
            b'{"id": "4", "text": 42}',
            b'{"id": "5", "text": "' + b"x" * (MAX_TEXT_CHARS + 1) + b'"}',
            b'{"id": "6", "text": "\\ud800"}',
            b"[1, 2]",
            b'{"id": "7", "text": "kundenr. 12345678"}',
        ]
    )
    code, lines = _run(data + b"\n")
    assert code == 0  # errors are reported in-band
    assert [line.get("id") for line in lines] == ["1", None, None, "3", "4", "5", "6", None, "7"]
    assert "findings" in lines[0] and "findings" in lines[-1]
    errors = [str(line["error"]) for line in lines[1:-1]]
    assert "JSON" in errors[0]
    assert "UTF-8" in errors[1]
    assert "text" in errors[2] and "text" in errors[3]
    assert str(MAX_TEXT_CHARS) in errors[4]
    assert "Unicode" in errors[5]


def test_text_streams_work_too() -> None:
    out = io.StringIO()
    code = jsonl.run(io.StringIO('{"id": 7, "text": "CPR 010190-1234"}\n'), out, [])
    assert code == 0
    assert json.loads(out.getvalue())["findings"][0]["type"] == "DK_CPR"


def test_an_unknown_lang_or_region_is_an_error_line_naming_the_allowed_values() -> None:
    data = (
        b'{"id": "a", "text": "Ring 40 52 37 46", "lang": "xx"}\n'
        b'{"id": "b", "text": "Ring 40 52 37 46", "region": "XX"}\n'
        b'{"id": "c", "text": "Ring 40 52 37 46", "lang": "da", "region": "DK"}\n'
    )
    code, lines = _run(data)
    assert code == 0
    assert lines[0] == {
        "id": "a",
        "error": "'lang' must be one of da, de, fi, sv, nb, en or absent",
    }
    assert lines[1]["id"] == "b" and "such as DK, DE, FI" in str(lines[1]["error"])
    assert lines[2]["id"] == "c" and lines[2]["findings"]
