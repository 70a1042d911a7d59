"""The engine's own readings of the numbering plans agree with phonenumbers.parse(), and its
ID rules with python-stdnum."""

from __future__ import annotations

import random
import re
from collections.abc import Callable

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberType
from stdnum import iban as stdnum_iban
from stdnum import luhn, numdb
from stdnum.de import idnr
from stdnum.dk import cpr
from stdnum.fi import hetu
from stdnum.no import fodselsnummer, kontonr
from stdnum.se import personnummer

from service.detection import validators as v
from service.detection.numbers import IBAN_COUNTRIES

_PERSONAL = {
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
    PhoneNumberType.PERSONAL_NUMBER,
    PhoneNumberType.VOIP,
}


def _reference(digits: str, international: bool, region: str | None) -> v.Phone | bool | None:
    """phonenumbers' answer: the Phone, None (valid, not a person's), False (invalid)."""
    try:
        number = phonenumbers.parse(("+" + digits) if international else digits, region)
    except phonenumbers.NumberParseException:
        return False
    if not phonenumbers.is_valid_number(number):
        return False
    kind = phonenumbers.number_type(number)
    if kind not in _PERSONAL:
        return None
    if phonenumbers.region_code_for_number(number) == "DK" and str(
        number.national_number
    ).startswith(("70", "80", "90")):
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return v.Phone(e164, kind == PhoneNumberType.MOBILE)


_PREFIXES = {
    "DK": ["2", "3", "4", "5", "6", "7", "8", "9"],
    "NO": ["2", "4", "5", "7", "8", "9"],
    "SE": ["07", "08", "01", "03", "04", "09"],
    "FI": ["04", "05", "09", "01", "02", "03", "06", "07", "08"],
    "DE": ["015", "016", "017", "030", "040", "089", "02", "06", "07", "08", "09"],
    "GB": ["07", "01", "02", "03", "08", "09"],
    "US": ["2", "3", "4", "6", "7", "8", "9", "12", "14"],
}
_CODES = {"DK": "45", "NO": "47", "SE": "46", "FI": "358", "DE": "49", "GB": "44", "US": "1"}


@settings(max_examples=1500, deadline=None)
@given(
    region=st.sampled_from(sorted(_PREFIXES)),
    data=st.data(),
    international=st.booleans(),
)
def test_plans_agree_with_phonenumbers(
    region: str, data: st.DataObject, international: bool
) -> None:
    prefix = data.draw(st.sampled_from(_PREFIXES[region]))
    rest = data.draw(st.text("0123456789", min_size=4, max_size=10))
    national = prefix + rest
    if international:
        significant = national[1:] if national.startswith("0") else national
        digits = _CODES[region] + significant
        expected = _reference(digits, True, None)
        got = v._international(digits)
        assert got == (None if expected is False else expected), digits
    else:
        if not v._plausible_national(national, region):
            return
        expected = _reference(national, False, region)
        assert v._national(national, region) == expected, (national, region)


# --- the ID rules applied here agree with python-stdnum --------------------------------

_RNG_SEED = 20261202


def _with_check(body: str, check: Callable[[str], int]) -> str:
    return body + str(check(body) % 10)


def _luhn_digit(body: str) -> int:
    for digit in "0123456789":
        if v.luhn_ok(body + digit):
            return int(digit)
    raise AssertionError(body)


def _mod11(weights: tuple[int, ...]) -> Callable[[str], int]:
    return lambda body: v._mod11_check(body, weights)


def _mod11_10(body: str) -> int:
    product = 10
    for d in body:
        total = (int(d) + product) % 10 or 10
        product = (2 * total) % 11
    return (11 - product) % 10


def _dates(rng: random.Random) -> str:
    """ddmmyy with days and months past their ranges (D- and H-numbers, invalid dates)."""
    day = rng.choice([rng.randint(1, 31), rng.randint(0, 99), 29, 30, 31])
    month = rng.choice([rng.randint(1, 12), rng.randint(0, 99), 2])
    return f"{day:02d}{month:02d}{rng.randint(0, 99):02d}"


def _samples(make: Callable[[random.Random], str], count: int = 20_000) -> list[str]:
    rng = random.Random(_RNG_SEED)
    return [make(rng) for _ in range(count)]


def _digits(rng: random.Random, count: int, alphabet: str = "0123456789") -> str:
    return "".join(rng.choice(alphabet) for _ in range(count))


def _fnr(rng: random.Random) -> str:
    body = _dates(rng) + _digits(rng, 3)
    body += str(v._mod11_check(body, (3, 7, 6, 1, 8, 9, 4, 5, 2)) % 10)
    return _with_check(body, _mod11((5, 4, 3, 2, 7, 6, 5, 4, 3, 2)))


def _account(rng: random.Random) -> str:
    head = rng.choice(["0000", _digits(rng, 4)])
    return _with_check(head + _digits(rng, 6), _mod11((5, 4, 3, 2, 7, 6, 5, 4, 3, 2)))


def _hetu(rng: random.Random) -> str:
    body = _dates(rng)
    sign = rng.choice("-+ABCDEFUVWXYabcdefG")
    individual = rng.choice([rng.randint(0, 999), 0, 1, 2, 899, 900])
    check = "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(f"{body}{individual:03d}") % 31]
    return body + sign + f"{individual:03d}" + rng.choice([check, check, check.lower(), "Z"])


_CASES: dict[str, tuple[Callable[[str], bool], Callable[[str], bool], Callable[..., str]]] = {
    # name: (the engine's rule, python-stdnum's answer, a generator of mostly plausible input)
    "dk_cpr": (
        v.is_dk_cpr,
        lambda d: (
            len(d) == 10 and v._date_ok(2000, int(d[2:4]), int(d[:2])) and bool(cpr.is_valid(d))
        ),
        lambda rng: _dates(rng) + _digits(rng, 4),
    ),
    "se_personnummer_10": (
        v.is_se_personnummer,
        lambda d: (
            v.luhn_ok(d[-10:])
            and v._date_ok(2000, int(d[-8:-6]), 1)
            and bool(personnummer.is_valid(d))
        ),
        lambda rng: _with_check(_dates(rng)[::-1][:6] + _digits(rng, 3), _luhn_digit),
    ),
    "se_personnummer_12": (
        v.is_se_personnummer,
        lambda d: (
            d[:2] in ("18", "19", "20")
            and v.luhn_ok(d[-10:])
            and v._date_ok(2000, int(d[-8:-6]), 1)
            and bool(personnummer.is_valid(d))
        ),
        lambda rng: (
            rng.choice(["18", "19", "20"])
            + _with_check(
                f"{rng.randint(0, 99):02d}{rng.randint(1, 12):02d}{rng.randint(0, 32):02d}"
                + _digits(rng, 3),
                _luhn_digit,
            )
        ),
    ),
    "no_fodselsnummer": (
        v.is_no_fodselsnummer,
        lambda d: (
            v._mod11_check(d, (3, 7, 6, 1, 8, 9, 4, 5, 2)) == int(d[9])
            and v._mod11_check(d, (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)) == int(d[10])
            and bool(fodselsnummer.is_valid(d))
        ),
        _fnr,
    ),
    "no_bank_account": (
        v.is_no_bank_account,
        lambda d: (
            v._mod11_check(d, (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)) == int(d[10])
            and bool(kontonr.is_valid(d))
        ),
        _account,
    ),
    "de_tax_id": (
        v.is_de_tax_id,
        lambda d: d[0] != "0" and bool(idnr.is_valid(d)),
        lambda rng: _with_check(
            _digits(rng, 10, rng.choice(["0123456789", "123456789"])), _mod11_10
        ),
    ),
    "fi_hetu": (v.is_fi_hetu, lambda h: bool(hetu.is_valid(h.upper())), _hetu),
    "payment_card": (
        v.is_payment_card,
        lambda d: bool(luhn.is_valid(d)) and v.luhn_ok(d),
        lambda rng: _with_check(rng.choice("2455") + _digits(rng, 14), _luhn_digit),
    ),
}


@pytest.mark.parametrize("name", sorted(_CASES))
def test_id_rules_agree_with_stdnum(name: str) -> None:
    rule, reference, make = _CASES[name]
    check = rule.__wrapped__  # type: ignore[attr-defined]  # past the cache
    values = _samples(make)
    valid = 0
    for value in values:
        if name == "payment_card" and not check(value):
            # The issuer prefix and length rules come first; Luhn is what stdnum checks.
            continue
        expected = reference(value)
        assert check(value) == expected, value
        valid += expected
    assert valid > len(values) // 50  # the samples reach the rules after the checksums


def test_non_ascii_digits_go_to_stdnum() -> None:
    fullwidth = str.maketrans("0123456789", "０１２３４５６７８９")
    for value in _samples(lambda rng: _dates(rng) + _digits(rng, 4), 2_000):
        wide = value.translate(fullwidth)
        expected = v._date_ok(2000, int(value[2:4]), int(value[:2])) and bool(cpr.is_valid(wide))
        assert v.is_dk_cpr.__wrapped__(wide) == expected


def _iban(rng: random.Random) -> str:
    """A country (mostly one the engine reads), a BBAN of its length or near it (digits,
    sometimes letters), and check digits that pass mod 97."""
    country = rng.choice([*sorted(IBAN_COUNTRIES), "XX", "US", "BR", "ME"])
    structure = numdb.get("iban").info(country)[0][1].get("bban", "")
    length = sum(int(count) for count in re.findall(r"(\d+)!", structure)) or rng.randint(10, 26)
    length += rng.choice([0, 0, 0, -1, 1])
    alphabet = rng.choice(["0123456789", "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"])
    bban = _digits(rng, length, alphabet)
    if country == "GB" and rng.random() < 0.7:
        bban = _digits(rng, 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") + _digits(rng, length - 4)
    rearranged = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{country}{98 - int(rearranged) % 97:02d}{bban}"


def test_iban_rule_agrees_with_stdnum() -> None:
    check = v.is_iban.__wrapped__  # past the cache
    values = _samples(_iban)
    valid = 0
    for value in values:
        expected = bool(stdnum_iban.is_valid(value))
        assert check(value) == expected, value
        valid += expected
    assert len(values) // 10 < valid < len(values) * 9 // 10  # both answers are common
