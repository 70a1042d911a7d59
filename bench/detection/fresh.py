"""Fresh, non-repeating comments for the speed benchmark.

Repeating a corpus flatters any engine with caches: from the second copy on, every phone
number and ID has been validated before.  Real streams repeat some values (a hotline, a
customer's number in a thread), but most personal data is seen once.  This module takes
the labelled comments and gives every copy new values: each labelled value gets new
digits of the same layout that still pass the type's rules (checksum, date, numbering
plan), and every other digit run of five or more digits gets new digits from the third
on (order numbers, references, amounts).  Lengths never change, so the labels still
hold and the fresh text can be scored too.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterator
from typing import Any

import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.de import idnr
from stdnum.dk import cpr
from stdnum.fi import hetu
from stdnum.no import fodselsnummer, kontonr
from stdnum.se import personnummer

_DIGIT_RUN = re.compile(r"\d{5,}")
_TRIES = 4000


def _phone_ok(value: str) -> bool:
    digits = "".join(ch for ch in value if ch.isdigit() or ch == "+")
    if value.lstrip().startswith(("+", "00")):
        digits = "+" + digits.lstrip("+")[2:] if digits.startswith("00") else digits
        regions: tuple[str | None, ...] = (None,)
    else:
        regions = ("DK", "DE", "FI", "SE", "NO", "GB", "US")
    for region in regions:
        try:
            number = phonenumbers.parse(digits, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return True
    return False


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


_RULES: dict[str, tuple[int, Callable[[str], bool]]] = {
    # type: (leading digits kept, rule the new value must pass)
    "PHONE_NUMBER": (-4, _phone_ok),
    "DK_CPR": (0, lambda v: bool(cpr.is_valid(_digits(v)))),
    "FI_HETU": (0, lambda v: bool(hetu.is_valid(v.upper()))),
    "SE_PERSONNUMMER": (0, lambda v: bool(personnummer.is_valid(_digits(v)))),
    "NO_FODSELSNUMMER": (0, lambda v: bool(fodselsnummer.is_valid(_digits(v)))),
    "DE_TAX_ID": (1, lambda v: bool(idnr.is_valid(_digits(v)))),
    "PAYMENT_CARD": (2, lambda v: bool(luhn.is_valid(_digits(v)))),
}


def _renew(value: str, kind: str, rng: random.Random) -> str:
    """``value`` with new digits in the same places, still valid for ``kind``."""
    positions = [i for i, ch in enumerate(value) if ch.isdigit()]
    if kind == "IBAN":
        for _ in range(_TRIES):
            chars = list(value)
            for i in positions[2:]:
                chars[i] = rng.choice("0123456789")
            compact = "".join(ch for ch in chars if ch.isalnum()).upper()
            check = stdnum_iban.calc_check_digits(compact[:2] + "00" + compact[4:])
            chars[positions[0]], chars[positions[1]] = check[0], check[1]
            candidate = "".join(chars)
            if stdnum_iban.is_valid(candidate.replace("\n", "")):
                return candidate
        return value
    keep, rule = _RULES.get(kind, (2, lambda v: True))
    if kind == "BANK_ACCOUNT" and len(positions) == 11:
        rule = lambda v: bool(kontonr.is_valid(_digits(v)))  # noqa: E731
    if kind in ("DK_CPR", "FI_HETU", "SE_PERSONNUMMER", "NO_FODSELSNUMMER"):
        # Keep the birth date's month and century; new day, serial and check digits.
        date_start = 2 if kind == "SE_PERSONNUMMER" and len(positions) == 12 else 0
        day = (date_start + 4, date_start + 5) if kind == "SE_PERSONNUMMER" else (0, 1)
        free = [p for k, p in enumerate(positions) if k == day[1] or k >= date_start + 6]
    else:
        free = positions[keep:]
    if not free:
        return value
    for _ in range(_TRIES):
        chars = list(value)
        for i in free:
            chars[i] = rng.choice("0123456789")
        candidate = "".join(chars)
        if candidate != value and rule(candidate):
            return candidate
    return value


_NAMES = [
    "Mette",
    "Anna",
    "Jonas",
    "Lars",
    "Sanne",
    "Ahmad",
    "Line",
    "Jesper",
    "Ingvild",
    "Priya",
    "Mark",
    "Emma",
    "Lukas",
    "Jukka",
    "Aino",
    "Erik",
    "Sofia",
    "Nils",
    "Kari",
    "Ole",
    "Heidi",
    "Timo",
    "Leena",
    "Jan",
    "Maria",
    "Peter",
    "Susanne",
    "Mikko",
    "Hanna",
    "Olav",
    "Astrid",
    "Björn",
    "Karin",
    "Sven",
    "Tuula",
    "Paul",
    "Sarah",
    "James",
    "Laura",
    "Ida",
]
_SIGNATURE = ("\n/{}", " /{}", " ^{}", "\n– {}", " mvh {}", " Gruß {}", " t. {}")


def fresh_rows(rows: list[dict[str, Any]], count: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """``count`` different comments: ``rows`` round robin, every copy with new values.

    A copy whose text would repeat an earlier one (no digits to renew) gets an agent's or
    writer's signature (``/Mette K``), a hard negative the corpus has too.
    """
    rng = random.Random(seed)
    seen: set[str] = set()
    for index in range(count):
        row = rows[index % len(rows)]
        text = row["text"]
        chars = list(text)
        if index >= len(rows):
            labelled = [(e["start"], e["end"]) for e in row.get("entities", [])]
            for entity in row.get("entities", []):
                start, end = entity["start"], entity["end"]
                chars[start:end] = list(_renew(text[start:end], entity["type"], rng))
            for match in _DIGIT_RUN.finditer(text):
                if any(s < match.end() and match.start() < e for s, e in labelled):
                    continue
                for i in range(match.start() + 2, match.end()):
                    chars[i] = rng.choice("0123456789")
        new = "".join(chars)
        while new in seen:
            name = f"{rng.choice(_NAMES)} {rng.choice('ABCDEFGHIJKLMNOPRSTUVW')}"
            new = "".join(chars) + rng.choice(_SIGNATURE).format(name)
        seen.add(new)
        yield {**row, "id": f"{row['id']}-{index}", "text": new}


def fresh_corpus(rows: list[dict[str, Any]], count: int, seed: int = 7) -> bytes:
    """JSON Lines for ``wallguard detect``: id, lang, text."""
    return b"".join(
        json.dumps({"id": r["id"], "lang": r["lang"], "text": r["text"]}).encode() + b"\n"
        for r in fresh_rows(rows, count, seed)
    )
