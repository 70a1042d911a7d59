"""Languages and countries Wallguard knows."""

from __future__ import annotations

import enum


class Language(enum.StrEnum):
    DA = "da"
    DE = "de"
    FI = "fi"
    SV = "sv"
    NB = "nb"
    EN = "en"


# ISO 3166-1 alpha-2, upper case, as phone-number parsing expects a region hint.
COUNTRY_PATTERN = "^[A-Z]{2}$"

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
