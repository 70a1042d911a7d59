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
