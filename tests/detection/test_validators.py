"""The engine's own readings of the numbering plans agree with phonenumbers.parse()."""

from __future__ import annotations

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberType

from service.detection import validators as v

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
