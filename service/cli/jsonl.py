"""``wallguard detect``: JSON Lines in, JSON Lines out.

Input, one object a line: ``{"id": "...", "text": "...", "lang": "da"}`` (``lang``
optional).  Output, one object a line in the same order:
``{"id": "...", "findings": [{"type", "start", "end", "score"}]}``.  A line that cannot be
read (bad JSON, invalid UTF-8, missing or non-string text, text too long) gets
``{"id": ... or null, "error": "..."}`` and the stream goes on.  Empty lines are skipped.
"""

from __future__ import annotations

import codecs
import gc
import io
import json
import sys
from collections.abc import Iterable, Sequence
from typing import IO, Any

import msgspec

from service.detection.engine import Detector
from service.detection.types import DetectionError, EntityType
from service.locales import COUNTRIES, COUNTRY_HINT, LANGUAGES


class _Request(msgspec.Struct):
    id: Any = None
    text: Any = None
    lang: Any = None
    region: Any = None


class _OutFinding(msgspec.Struct):
    type: EntityType
    start: int
    end: int
    score: float


class _Result(msgspec.Struct):
    id: Any
    findings: list[_OutFinding]


class _Error(msgspec.Struct):
    id: Any
    error: str


_decoder = msgspec.json.Decoder(_Request)
_encoder = msgspec.json.Encoder()


def _lines(stream: IO[Any]) -> Iterable[bytes]:
    binary = getattr(stream, "buffer", None)
    source = binary if binary is not None else stream
    for line in source:
        yield line if isinstance(line, bytes) else line.encode("utf-8", "surrogateescape")


def _write(out: IO[Any], binary: bool, payload: bytes) -> None:
    if binary:
        out.write(payload)
    else:
        out.write(payload.decode())


def detect_line(detector: Detector, line: bytes) -> bytes:
    """One input line to one output line (without the newline)."""
    try:
        request = _decoder.decode(line)
    except UnicodeDecodeError as exc:
        return _encoder.encode(_Error(id=None, error=f"invalid UTF-8 at byte {exc.start}"))
    except msgspec.ValidationError as exc:
        return _encoder.encode(_Error(id=None, error=f"invalid request: {exc}"))
    except msgspec.DecodeError:
        # Rare: let the standard library say what is wrong (and accept what msgspec
        # refuses but JSON allows, like an escaped lone surrogate, refused below).
        try:
            request = msgspec.convert(json.loads(line), _Request)
        except json.JSONDecodeError as exc:
            return _encoder.encode(_Error(id=None, error=f"invalid JSON: {exc}"))
        except msgspec.ValidationError as exc:
            return _encoder.encode(_Error(id=None, error=f"invalid request: {exc}"))
    ident = request.id if isinstance(request.id, (str, int)) else None
    if not isinstance(request.text, str):
        return _encoder.encode(_Error(id=ident, error="'text' must be a string"))
    if request.lang is not None and request.lang not in LANGUAGES:
        return _encoder.encode(
            _Error(id=ident, error=f"'lang' must be one of {', '.join(LANGUAGES)} or absent")
        )
    if request.region is not None and request.region not in COUNTRIES:
        return _encoder.encode(_Error(id=ident, error=f"'region' must be {COUNTRY_HINT} or absent"))
    lang, region = request.lang, request.region
    try:
        spans = detector.detect_spans(request.text, lang=lang, region=region)
    except DetectionError as exc:
        return _encoder.encode(_Error(id=ident, error=str(exc)))
    except Exception:  # a defect must cost one line, not the stream
        import logging  # only for a defect: loading it costs 5 % of the start-up

        logging.getLogger(__name__).exception("detection failed on line with id %r", ident)
        return _encoder.encode(_Error(id=ident, error="internal error while detecting"))
    return _encoder.encode(
        _Result(
            id=request.id,
            findings=[_OutFinding(kind, start, end, score) for kind, start, end, score in spans],
        )
    )


def run(in_stream: IO[Any], out_stream: IO[Any], regions: Sequence[str] = ()) -> int:
    """The ``wallguard detect`` loop.  Returns the exit code.

    The exit code is 0 once the whole stream has been read, also when some lines were
    answered with an error line: errors are reported in-band, line by line, so a consumer
    can match them to their input.
    """
    detector = Detector(regions=regions)
    out_binary = getattr(out_stream, "buffer", None)
    target = out_binary if out_binary is not None else out_stream
    binary = out_binary is not None or not isinstance(out_stream, io.TextIOBase)
    # The loop creates no reference cycles; pausing the cyclic collector while it runs
    # saves its periodic scans of the young objects (about 7 % of the time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        for count, line in enumerate(_lines(in_stream), 1):
            if count == 1:
                line = line.removeprefix(codecs.BOM_UTF8)
            if line.strip():
                payload = detect_line(detector, line.rstrip(b"\r\n"))
                _write(target, binary, payload + b"\n")
            if collecting and count % _COLLECT_EVERY == 0:
                gc.collect(0)
    finally:
        if collecting:
            gc.enable()
    target.flush()
    return 0


_COLLECT_EVERY = 10_000


def run_files(input: str, output: str, regions: Sequence[str]) -> int:
    """``wallguard detect --input ... --output ...``: ``-`` is stdin or stdout."""
    src = sys.stdin.buffer if input == "-" else open(input, "rb")  # noqa: SIM115
    dst = sys.stdout if output == "-" else open(output, "w", encoding="utf-8")  # noqa: SIM115
    try:
        return run(src, dst, regions)
    finally:
        if src is not sys.stdin.buffer:
            src.close()
        if dst is not sys.stdout:
            dst.close()
        else:
            dst.flush()


def detect_arguments(args: Sequence[str]) -> tuple[str, str, list[str]] | None:
    """The input, output and regions of ``wallguard detect ARGS`` when ARGS are plain
    options with valid values; None for anything else (help, a bad region, an unknown
    option), which the Typer command answers."""
    values = {"--input": "-", "--output": "-"}
    regions: list[str] = []
    names = {"--input": "--input", "-i": "--input", "--output": "--output", "-o": "--output"}
    position = 0
    while position < len(args):
        arg = args[position]
        name, equals, value = arg.partition("=")
        if not equals or not name.startswith("--"):
            name = arg
            if position + 1 >= len(args):
                return None
            position += 1
            value = args[position]
        position += 1
        if name == "--region":
            regions.append(value.strip().upper())
        elif name in names:
            values[names[name]] = value
        else:
            return None
    from service.locales import COUNTRIES

    if any(region not in COUNTRIES for region in regions):
        return None
    return values["--input"], values["--output"], regions


if __name__ == "__main__":
    sys.exit(run(sys.stdin, sys.stdout, sys.argv[1:]))
