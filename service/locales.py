"""Languages and countries Wallguard knows."""

from __future__ import annotations

import enum

import phonenumbers


class Language(enum.StrEnum):
    DA = "da"
    DE = "de"
    FI = "fi"
    SV = "sv"
    NB = "nb"
    EN = "en"


LANGUAGES: tuple[str, ...] = tuple(language.value for language in Language)

# ISO 3166-1 alpha-2, upper case, as phone-number parsing expects a region hint: the countries
# phonenumbers knows (245), so "XX" is refused rather than silently ignored.
COUNTRIES: tuple[str, ...] = tuple(
    sorted(r for r in phonenumbers.SUPPORTED_REGIONS if len(r) == 2 and r.isalpha())
)
COUNTRY_PATTERN = "^(?:" + "|".join(COUNTRIES) + ")$"
# Wallguard's markets, named first where a message cannot list all 245.
MAIN_COUNTRIES = ("DK", "DE", "FI", "SE", "NO", "GB", "US")
COUNTRY_HINT = (
    "an upper-case ISO 3166-1 alpha-2 country code, such as "
    + ", ".join(MAIN_COUNTRIES)
    + " (the API document lists all)"
)

# The language a page in this country is written in, for the countries Wallguard serves (and
# the English-speaking ones whose numbers it reads). A page elsewhere has none: its language
# comes from its settings, never from a guess.
_COUNTRY_LANGUAGES: dict[str, Language] = {
    "DK": Language.DA,
    "FO": Language.DA,
    "GL": Language.DA,
    "DE": Language.DE,
    "AT": Language.DE,
    "CH": Language.DE,
    "LI": Language.DE,
    "FI": Language.FI,
    "SE": Language.SV,
    "AX": Language.SV,
    "NO": Language.NB,
    "SJ": Language.NB,
    "GB": Language.EN,
    "IE": Language.EN,
    "US": Language.EN,
}


def country_language(country: str | None) -> str | None:
    """The language of a page in ``country`` (ISO 3166-1 alpha-2), None when not known."""
    if not country:
        return None
    language = _COUNTRY_LANGUAGES.get(country.strip().upper())
    return language.value if language is not None else None
