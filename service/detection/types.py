"""Value types of the detection engine: what a finding is and the errors it raises."""

from __future__ import annotations

import enum

import msgspec

#: Longest text (in code points) one ``detect`` call accepts.  Comments on the platforms we
#: watch are far shorter; the limit keeps one request's cost bounded.
MAX_TEXT_CHARS = 100_000


class EntityType(enum.StrEnum):
    """The kinds of personal data Wallguard hides."""

    EMAIL_ADDRESS = "EMAIL_ADDRESS"
    PHONE_NUMBER = "PHONE_NUMBER"
    DK_CPR = "DK_CPR"
    FI_HETU = "FI_HETU"
    SE_PERSONNUMMER = "SE_PERSONNUMMER"
    NO_FODSELSNUMMER = "NO_FODSELSNUMMER"
    DE_TAX_ID = "DE_TAX_ID"
    IBAN = "IBAN"
    BANK_ACCOUNT = "BANK_ACCOUNT"
    PAYMENT_CARD = "PAYMENT_CARD"
    CUSTOMER_NUMBER = "CUSTOMER_NUMBER"
    POSTAL_ADDRESS = "POSTAL_ADDRESS"


class Finding(msgspec.Struct, frozen=True):
    """One piece of personal data found in a text.

    ``start``/``end`` are code point offsets (``text[start:end]`` is the value, ``end``
    exclusive); ``score`` is the confidence in [0, 1]; ``masked`` keeps just enough to
    recognise the kind of value (``+45 •• •• •• 78``, ``a•••@gmail.com``).

    ``normalized`` is the canonical value (digits only, lower-cased e-mail ...).  It exists
    only in memory, to compute :func:`service.detection.fingerprint`; it is personal data
    itself and must never be serialised, logged or returned by the API.
    """

    type: EntityType
    start: int
    end: int
    score: float
    masked: str
    normalized: str


class DetectionError(ValueError):
    """Base of the errors the detection engine raises for bad input or bad rules."""


class TextTooLongError(DetectionError):
    """The text is longer than :data:`MAX_TEXT_CHARS` (the API answers 413)."""

    def __init__(self, length: int) -> None:
        super().__init__(f"text has {length} characters; the limit is {MAX_TEXT_CHARS}")
        self.length = length


class InvalidTextError(DetectionError):
    """The text is not a string or not valid Unicode (the API answers 422)."""


class PatternError(DetectionError):
    """A tenant's custom pattern cannot be compiled by RE2 (or is otherwise unusable)."""
