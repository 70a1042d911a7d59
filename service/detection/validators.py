"""Format, checksum and date rules of each value type, with cheap checks first.

The library validators (python-stdnum, phonenumbers) are the authority.  The hand-written
pre-checks here reject candidates early; for values written in ASCII digits the rest of
python-stdnum's rules for CPR, personnummer, fødselsnummer, Norwegian accounts, Steuer-ID,
henkilötunnus and Luhn are applied here too (the same rules without its input cleaning,
which cost more than the rules), and tests/detection/test_validators.py checks that the
two agree.  Other digits (fullwidth, Arabic-Indic ...) go to python-stdnum.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Callable
from typing import NamedTuple

import phonenumbers
from phonenumbers import PhoneNumberType
from stdnum import iban as stdnum_iban
from stdnum import luhn, numdb
from stdnum.de import idnr
from stdnum.dk import cpr
from stdnum.exceptions import ValidationError
from stdnum.fi import hetu
from stdnum.no import fodselsnummer, kontonr
from stdnum.se import personnummer
from stdnum.util import get_cc_module

#: Regions whose phone numbers we look for, in the default order of preference.
DEFAULT_REGIONS: tuple[str, ...] = ("DK", "DE", "FI", "SE", "NO", "GB", "US")

#: Numbers a person answers.  Toll-free, premium, shared-cost and universal access numbers
#: (0800, 0600, 0771, 815, 0345 ...) belong to companies: a customer quoting one is quoting
#: the company's hotline.
_PERSONAL_PHONE_TYPES: frozenset[int] = frozenset(
    {
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
        PhoneNumberType.PERSONAL_NUMBER,
        PhoneNumberType.VOIP,
    }
)

#: Danish 70, 80 and 90 numbers are service numbers of businesses (phonenumbers files 70 as
#: an ordinary line).
_DK_SERVICE_PREFIXES = ("70", "80", "90")

#: Country calling codes of the regions we serve; other "+" numbers are still checked by
#: phonenumbers, these only decide cheaply how many digits may follow.
_NATIONAL_LENGTHS: dict[str, tuple[int, int]] = {
    "DK": (8, 8),
    "NO": (8, 8),
    "DE": (6, 12),
    "FI": (6, 12),
    "SE": (7, 10),
    "GB": (10, 11),
    "US": (10, 11),
}


_LUHN_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)
_CACHE_SIZE = 8192


def luhn_ok(digits: str) -> bool:
    """Luhn checksum (payment cards, Swedish personnummer); digits only."""
    total = sum(int(d) for d in digits[-1::-2])
    total += sum(_LUHN_DOUBLED[int(d)] for d in digits[-2::-2])
    return total % 10 == 0


@functools.lru_cache(maxsize=_CACHE_SIZE)
def is_payment_card(digits: str) -> bool:
    """A Visa or Mastercard number: issuer prefix and length, then Luhn."""
    first = digits[0]
    if first == "4":
        if len(digits) not in (13, 16, 19):
            return False
    elif first == "5":
        if digits[1] not in "12345" or len(digits) != 16:
            return False
    elif first == "2":
        if not 2221 <= int(digits[:4]) <= 2720 or len(digits) != 16:
            return False
    else:
        return False
    return luhn_ok(digits) and (digits.isascii() or bool(luhn.is_valid(digits)))


def _date(year: int, month: int, day: int) -> datetime.date | None:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _date_ok(year: int, month: int, day: int) -> bool:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return False
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=_CACHE_SIZE)
def is_dk_cpr(digits: str) -> bool:
    """A valid Danish CPR birth date (numbers since 2007 need not pass mod 11)."""
    if len(digits) != 10 or not _date_ok(2000, int(digits[2:4]), int(digits[:2])):
        return False
    if not digits.isascii():
        return bool(cpr.is_valid(digits))
    # stdnum.dk.cpr: the century from the year and the first digit of the sequence number;
    # a birth date in the future is no CPR.
    year = int(digits[4:6])
    sequence = digits[6]
    if sequence in "5678" and year >= 58:
        year += 1800
    elif sequence in "0123" or (sequence in "49" and year >= 37):
        year += 1900
    else:
        year += 2000
    born = _date(year, int(digits[2:4]), int(digits[:2]))
    return born is not None and born <= datetime.date.today()


def dk_cpr_mod11(digits: str) -> bool:
    """The pre-2007 modulus 11 check: passing it makes a CPR reading more likely."""
    weights = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 == 0


@functools.lru_cache(maxsize=_CACHE_SIZE)
def is_se_personnummer(digits: str) -> bool:
    """Swedish personnummer, 10 or 12 digits: Luhn, then the date (stdnum)."""
    if len(digits) == 12:
        if digits[:2] not in ("18", "19", "20"):
            return False
    elif len(digits) != 10:
        return False
    if not luhn_ok(digits[-10:]) or not _date_ok(2000, int(digits[-8:-6]), 1):
        return False
    if not digits.isascii():
        return bool(personnummer.is_valid(digits))
    # stdnum.se.personnummer: with 10 digits the century is the latest one that does not
    # put the birth year after this year.
    if len(digits) == 12:
        return _date(int(digits[:4]), int(digits[4:6]), int(digits[6:8])) is not None
    this_year = datetime.date.today().year
    century = this_year // 100
    if int(digits[:2]) > this_year % 100:
        century -= 1
    year = century * 100 + int(digits[:2])
    return _date(year, int(digits[2:4]), int(digits[4:6])) is not None


def _mod11_check(digits: str, weights: tuple[int, ...]) -> int:
    """The mod-11 check digit used in Norway (10 means: no valid number)."""
    rest = sum(int(d) * w for d, w in zip(digits[: len(weights)], weights, strict=True)) % 11
    return 0 if rest == 0 else 11 - rest


@functools.lru_cache(maxsize=_CACHE_SIZE)
def is_no_fodselsnummer(digits: str) -> bool:
    """Norwegian fødselsnummer (or D-number): 11 digits, both mod-11 check digits."""
    if len(digits) != 11:
        return False
    if _mod11_check(digits, (3, 7, 6, 1, 8, 9, 4, 5, 2)) != int(digits[9]):
        return False
    if _mod11_check(digits, (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)) != int(digits[10]):
        return False
    if not digits.isascii():
        return bool(fodselsnummer.is_valid(digits))
    # stdnum.no.fodselsnummer: D-numbers (day + 40), H-numbers (month + 40), no FH-numbers
    # (day 80 and up), the century from the individual number, no birth in the future.
    day = int(digits[:2])
    month = int(digits[2:4])
    year = int(digits[4:6])
    individual = int(digits[6:9])
    if day >= 80:
        return False
    if day > 40:
        day -= 40
    if month > 40:
        month -= 40
    if individual < 500:
        year += 1900
    elif individual < 750 and year >= 54:
        year += 1800
    elif year < 40:
        year += 2000
    elif individual >= 900:
        year += 1900
    else:
        return False
    born = _date(year, month, day)
    return born is not None and born <= datetime.date.today()


@functools.lru_cache(maxsize=_CACHE_SIZE)
def is_no_bank_account(digits: str) -> bool:
    """Norwegian account number: 11 digits, mod 11."""
    if len(digits) != 11:
        return False
    if _mod11_check(digits, (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)) != int(digits[10]):
        return False
    if not digits.isascii():
        return bool(kontonr.is_valid(digits))
    # stdnum.no.kontonr: a leading 0000 is the postgiro bank code; the 7 digits after it
    # carry a Luhn check digit (the mod 11 check above is the 11-digit rule).
    return not digits.startswith("0000") or luhn_ok(digits[4:])


@functools.lru_cache(maxsize=_CACHE_SIZE)
def is_de_tax_id(digits: str) -> bool:
    """German Steuer-ID (IdNr): 11 digits, no leading zero, ISO 7064 mod 11,10."""
    if len(digits) != 11 or digits[0] == "0":
        return False
    product = 10
    for d in digits[:10]:
        total = (int(d) + product) % 10 or 10
        product = (2 * total) % 11
    if (11 - product) % 10 != int(digits[10]):
        return False
    if not digits.isascii():
        return bool(idnr.is_valid(digits))
    # stdnum.de.idnr: in the first ten digits exactly one digit appears twice or three
    # times, every other at most once.
    repeated = [count for count in map(digits[:10].count, set(digits[:10])) if count > 1]
    return len(repeated) == 1 and repeated[0] in (2, 3)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def is_fi_hetu(value: str) -> bool:
    """Finnish henkilötunnus with its century sign and check character."""
    value = value.upper()
    if not value.isascii():
        return bool(hetu.is_valid(value))
    # stdnum.fi.hetu: date with the century of its sign, individual number 002-899, check
    # character.
    match = _HETU.match(value)
    if match is None:
        return False
    individual = int(value[7:10])
    if _date(_HETU_CENTURIES[value[6]] + int(value[4:6]), int(value[2:4]), int(value[:2])) is None:
        return False
    if individual < 2 or individual >= 900:
        return False
    return value[10] == _HETU_CHECK[int(value[:6] + value[7:10]) % 31]


_HETU = re.compile(
    r"[0123][0-9][01][0-9][0-9][0-9][-+ABCDEFYXWVU][0-9][0-9][0-9][0-9ABCDEFHJKLMNPRSTUVWXY]\Z"
)
_HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
_HETU_CENTURIES = {
    "+": 1800,
    **dict.fromkeys("-YXWVU", 1900),
    **dict.fromkeys("ABCDEF", 2000),
}


@functools.lru_cache(maxsize=_CACHE_SIZE)
def is_iban(compact: str) -> bool:
    """An IBAN passing mod 97, then the national format (stdnum)."""
    if not compact[:2].isalpha() or not compact[2:4].isdigit() or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    if int(number) % 97 != 1:
        return False
    if not compact.isascii():
        return bool(stdnum_iban.is_valid(compact))
    # stdnum.iban after its checksum: the country's BBAN structure from its copy of the
    # SWIFT registry, then the country's own rule where stdnum has one (BE, ES, NO ...).
    country = _iban_country(compact[:2])
    if country is None:
        return False
    structure, national = country
    if structure.match(compact[4:]) is None:
        return False
    if national is not None:
        try:
            national(compact)
        except ValidationError:
            return False
    return True


_IBAN_PARTS = re.compile(r"([1-9][0-9]*)!([nac])")
_IBAN_CHARS = {"n": "[0-9]", "a": "[A-Z]", "c": "[A-Za-z0-9]"}


@functools.cache
def _iban_country(code: str) -> tuple[re.Pattern[str], Callable[[str], object] | None] | None:
    """The BBAN structure ("4!n9!n1!n") as a pattern and the national IBAN rule of a
    country, as stdnum.iban reads them; None for a country without IBANs."""
    props = numdb.get("iban").info(code)[0][1]
    if not props:
        return None
    pattern = _IBAN_PARTS.sub(
        lambda part: f"{_IBAN_CHARS[part.group(2)]}{{{part.group(1)}}}", props.get("bban", "")
    )
    module = get_cc_module(code, "iban")
    return re.compile(f"^{pattern}$"), None if module is None else module.validate


def is_date(groups: list[str]) -> bool:
    """``dd.mm.yyyy``, ``d/m/yy``, ``yyyy-mm-dd`` shaped groups forming a real date."""
    if len(groups) != 3:
        return False
    a, b, c = groups
    if len(a) == 4 and len(b) <= 2 and len(c) <= 2:
        return _date_ok(int(a), int(b), int(c))
    if len(a) <= 2 and len(b) <= 2 and len(c) in (2, 4):
        year = int(c) if len(c) == 4 else 2000 + int(c)
        return _date_ok(year, int(b), int(a)) or _date_ok(year, int(a), int(b))
    return False


def _plausible_national(digits: str, region: str) -> bool:
    """Cheap shape test before phonenumbers runs: length and trunk prefix per region."""
    low, high = _NATIONAL_LENGTHS[region]
    if not low <= len(digits) <= high:
        return False
    if region in ("DK", "NO"):
        return digits[0] not in "01"
    if region == "US":
        if len(digits) == 11:
            return digits[0] == "1" and digits[1] not in "01"
        return digits[0] not in "01"
    return digits[0] == "0" and digits[1] != "0"


class Phone(NamedTuple):
    """A valid personal phone number: its E.164 form and whether it is a mobile."""

    e164: str
    mobile: bool


# --- phone numbers from the numbering plans themselves --------------------------------
#
# phonenumbers.parse() is general (any input, any region, carrier codes, extensions) and
# costs most of a number's reading.  The engine's input is already digits, so the plans'
# own patterns (phonenumbers' metadata: what each country's regulator publishes) are
# matched directly, in the order phonenumbers' number_type() uses.  Country codes outside
# the served ones fall back to phonenumbers.parse().  tests/detection/test_validators.py
# checks the two agree.

_KIND_ORDER = (
    ("premium_rate", PhoneNumberType.PREMIUM_RATE),
    ("toll_free", PhoneNumberType.TOLL_FREE),
    ("shared_cost", PhoneNumberType.SHARED_COST),
    ("voip", PhoneNumberType.VOIP),
    ("personal_number", PhoneNumberType.PERSONAL_NUMBER),
    ("pager", PhoneNumberType.PAGER),
    ("uan", PhoneNumberType.UAN),
    ("voicemail", PhoneNumberType.VOICEMAIL),
)
_Desc = tuple[frozenset[int], "re.Pattern[str]"] | None


class _Plan(NamedTuple):
    """One region's numbering plan, compiled once."""

    region: str
    country_code: str
    general: _Desc
    kinds: tuple[tuple[_Desc, int], ...]
    fixed_line: _Desc
    mobile: _Desc
    same_mobile_and_fixed: bool
    leading_digits: re.Pattern[str] | None
    trunk_prefix: re.Pattern[str] | None  # "0" (DE, FI, SE, GB), "1" (US): not dialled abroad


def _desc(desc: object, fallback: frozenset[int] = frozenset()) -> _Desc:
    pattern = getattr(desc, "national_number_pattern", None)
    if not pattern:
        return None
    lengths = frozenset(getattr(desc, "possible_length", None) or ()) or fallback
    return lengths, re.compile(f"(?:{pattern})\\Z")


@functools.cache
def _plan(region: str) -> _Plan | None:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region, None)
    if metadata is None:
        return None
    general = _desc(metadata.general_desc)
    return _Plan(
        region,
        str(metadata.country_code),
        general,
        tuple((_desc(getattr(metadata, name)), kind) for name, kind in _KIND_ORDER),
        _desc(metadata.fixed_line),
        _desc(metadata.mobile),
        bool(metadata.same_mobile_and_fixed_line_pattern),
        re.compile(metadata.leading_digits) if metadata.leading_digits else None,
        re.compile(metadata.national_prefix_for_parsing)
        if metadata.national_prefix_for_parsing and not metadata.national_prefix_transform_rule
        else None,
    )


def _strip_trunk_prefix(national: str, plan: _Plan) -> str:
    """The number without its trunk prefix, as phonenumbers strips it: unless the number
    is viable as written and would not be without it."""
    if plan.trunk_prefix is None or plan.general is None:
        return national
    match = plan.trunk_prefix.match(national)
    if match is None or match.end() == 0:
        return national
    stripped = national[match.end() :]
    pattern = plan.general[1]
    if pattern.match(national) is not None and pattern.match(stripped) is None:
        return national
    return stripped


def _matches(national: str, desc: _Desc) -> bool:
    if desc is None:
        return False
    lengths, pattern = desc
    if lengths and len(national) not in lengths:
        return False
    return pattern.match(national) is not None


def _kind(national: str, plan: _Plan) -> int:
    """phonenumbers' number type of a national significant number in ``plan``."""
    if not _matches(national, plan.general):
        return PhoneNumberType.UNKNOWN
    for desc, kind in plan.kinds:
        if _matches(national, desc):
            return kind
    if _matches(national, plan.fixed_line):
        if plan.same_mobile_and_fixed or _matches(national, plan.mobile):
            return PhoneNumberType.FIXED_LINE_OR_MOBILE
        return PhoneNumberType.FIXED_LINE
    if not plan.same_mobile_and_fixed and _matches(national, plan.mobile):
        return PhoneNumberType.MOBILE
    return PhoneNumberType.UNKNOWN


#: The country codes read from the plans directly, and the regions sharing each.
_FAST_CODES: dict[str, tuple[str, ...]] = {
    "45": ("DK",),
    "46": ("SE",),
    "47": ("NO", "SJ"),
    "49": ("DE",),
    "358": ("FI", "AX"),
    "44": ("GB", "GG", "IM", "JE"),
    "1": tuple(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1]),
}


def _personal_phone(national: str, code: str, region: str, kind: int) -> Phone | None:
    if kind not in _PERSONAL_PHONE_TYPES:
        return None
    if region == "DK" and national.startswith(_DK_SERVICE_PREFIXES):
        return None
    return Phone(f"+{code}{national}", kind == PhoneNumberType.MOBILE)


def _international(digits: str) -> Phone | bool | None:
    """A number written with its country code, read from the plans; False when its
    country code is not one the plans here cover."""
    for length in (1, 2, 3):
        code = digits[:length]
        regions = _FAST_CODES.get(code)
        if regions is None:
            continue
        national = digits[length:]
        if not national:
            return None
        first = _plan(regions[0])
        if first is not None:
            national = _strip_trunk_prefix(national, first)  # "+49 030 ...", "+1 1 415 ..."
        for region in regions:
            plan = _plan(region)
            if plan is None:
                continue
            if plan.leading_digits is not None:
                if plan.leading_digits.match(national) is None:
                    continue
            elif _kind(national, plan) == PhoneNumberType.UNKNOWN:
                continue
            kind = _kind(national, plan)
            if kind == PhoneNumberType.UNKNOWN:
                return None
            return _personal_phone(national, code, region, kind)
        return None
    return False


@functools.lru_cache(maxsize=65536)
def phone_number(
    digits: str, international: bool, regions: tuple[str, ...], hinted: bool = True
) -> Phone | None:
    """``digits`` as a person's phone number, or None.

    ``international`` means the digits start with the country code (written ``+`` or
    ``00``).  National numbers are tried in the order of ``regions``; with a language or
    country hint (``hinted``) the first region where the number is valid decides (a
    Finnish 0600 premium number is not a German landline); without one, the number must
    be a person's in every region where it is valid.
    """
    if international:
        fast = _international(digits)
        if fast is not False:
            return fast  # type: ignore[return-value]
        try:
            return _personal(phonenumbers.parse("+" + digits, None))
        except phonenumbers.NumberParseException:
            return None
    candidate: Phone | None = None
    for region in regions:
        if region in _NATIONAL_LENGTHS and not _plausible_national(digits, region):
            continue
        found = _national(digits, region)
        if found is False:
            continue
        if hinted or found is None:
            return found  # type: ignore[return-value]
        if candidate is None:
            candidate = found  # type: ignore[assignment]
    return candidate


def _national(digits: str, region: str) -> Phone | bool | None:
    """A national number of ``region``: the Phone, None (valid, not a person's) or False
    (not a valid number there)."""
    plan = _plan(region)
    if plan is None or region not in _NATIONAL_LENGTHS:
        try:
            number = phonenumbers.parse(digits, region)
        except phonenumbers.NumberParseException:
            return False
        if not phonenumbers.is_valid_number(number):
            return False
        return _personal(number)
    national = _strip_trunk_prefix(digits, plan)
    regions = _FAST_CODES[plan.country_code]
    owner = None
    for candidate in regions:
        other = _plan(candidate)
        if other is None:
            continue
        if other.leading_digits is not None:
            if other.leading_digits.match(national) is not None:
                owner = other
                break
        elif _kind(national, other) != PhoneNumberType.UNKNOWN:
            owner = other
            break
    if owner is None:
        return False
    kind = _kind(national, owner)
    if kind == PhoneNumberType.UNKNOWN:
        return False
    return _personal_phone(national, plan.country_code, owner.region, kind)


def _personal(number: phonenumbers.PhoneNumber) -> Phone | None:
    if not phonenumbers.is_valid_number(number):
        return None
    kind = phonenumbers.number_type(number)
    if kind not in _PERSONAL_PHONE_TYPES:
        return None
    region = phonenumbers.region_code_for_number(number)
    if region == "DK" and str(number.national_number).startswith(_DK_SERVICE_PREFIXES):
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return Phone(str(e164), kind == PhoneNumberType.MOBILE)
