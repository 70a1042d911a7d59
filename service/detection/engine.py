"""The detector: text in, findings out.

How a text is read, cheapest first:

1. A few compiled regular expressions find the places worth a look: digit runs (with
   the spaces, dots, dashes, slashes and line breaks people put in them) and e-mail
   markers (``@``, ``(at)``, ``snabel-a`` ...).  The rest of the text costs nothing more.
2. Each place is tried against the value types its form allows, cheap checks first
   (length, leading digits, dates, Luhn), the library validators (python-stdnum,
   phonenumbers) only on what survives (:mod:`.numbers`, :mod:`.emails`,
   :mod:`.addresses`).
3. The words right before (and after) a value decide between look-alikes and raise or
   lower its score (:mod:`.context`).
4. Overlapping readings are resolved by score; the tenant's allowlist removes the
   company's own public values.

Every step is linear in the length of the text: no pattern has nested unbounded
repetition, and the context window and the digit groups tried per place are bounded.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable

from . import validators as v
from .candidate import Candidate
from .emails import find_emails
from .language import guess_language
from .masking import mask
from .numbers import REPORT_THRESHOLD, NumberReader
from .tenant_rules import TenantRules
from .types import MAX_TEXT_CHARS, EntityType, Finding, InvalidTextError, TextTooLongError

__all__ = ["REPORT_THRESHOLD", "Detector", "Span", "check_text"]

_LANGS = frozenset({"da", "de", "fi", "sv", "nb", "en"})
_LANG_ALIASES = {"no": "nb", "nn": "nb", "se": "sv", "dk": "da"}
_LANG_REGION = {"da": "DK", "de": "DE", "fi": "FI", "sv": "SE", "nb": "NO", "en": "GB"}
_REGION_LANG = {"DK": "da", "DE": "de", "FI": "fi", "SE": "sv", "NO": "nb", "GB": "en", "US": "en"}
_MAX_REGION_ORDERS = 4096
_ANY_DIGIT = re.compile(r"\d")
_SPELLED_AT_RE = re.compile(r"[{<(\[] ?(?:at|a|ät) ?[})>\]]")

#: (type, start, end, score): a finding without its masked and normalised forms.
Span = tuple[EntityType, int, int, float]


def check_text(text: object) -> str:
    """``text`` if it is a string the engine accepts, else a clear error."""
    if not isinstance(text, str):
        raise InvalidTextError(f"text must be a string, not {type(text).__name__}")
    if len(text) > MAX_TEXT_CHARS:
        raise TextTooLongError(len(text))
    if text.isascii():
        return text  # no lone surrogate (the encoding below costs more than this test)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidTextError(f"text is not valid Unicode: {exc.reason}") from None
    return text


class Detector:
    """Finds personal data in texts.  Build once (it compiles the tenant's rules), reuse.

    A phone number written without its country code is read in the national formats of
    the comment's country only: the page's country (``region``) and the country of the
    comment's language (given or guessed; English: GB and US).  ``regions`` are the
    countries whose national formats are read when neither is known (all of DK, DE, FI,
    SE, NO, GB and US by default); a number with ``+`` or ``00`` is read for any country.
    A detector keeps no state between calls: it is safe to share between threads.
    """

    __slots__ = ("_region_orders", "regions", "rules")

    def __init__(self, rules: TenantRules | None = None, regions: Iterable[str] = ()) -> None:
        self.rules = rules if rules is not None else TenantRules()
        # Given regions come first; the default ones stay: a hint, not a filter.
        given = [r.strip().upper() for r in regions if r.strip()]
        self.regions = tuple(dict.fromkeys(given)) or v.DEFAULT_REGIONS
        self._region_orders: dict[tuple[str | None, str | None], tuple[str, ...]] = {}

    def detect(
        self, text: str, lang: str | None = None, region: str | None = None
    ) -> list[Finding]:
        """The personal data in ``text``, sorted by position, never overlapping.

        ``lang`` (da, de, fi, sv, nb, en) and ``region`` (DK, DE, FI, SE, NO, GB, US) are
        hints: the page's language and country, when known; without them the language is
        guessed.  Raises :class:`TextTooLongError` above :data:`MAX_TEXT_CHARS` and
        :class:`InvalidTextError` for a non-string or invalid Unicode.
        """
        return [
            Finding(
                type=c.type,
                start=c.start,
                end=c.end,
                score=round(min(c.score, 1.0), 3),
                masked=mask(c.type, text[c.start : c.end], c.normalized),
                normalized=c.normalized,
            )
            for c in self._find(text, lang, region)
        ]

    def detect_spans(
        self, text: str, lang: str | None = None, region: str | None = None
    ) -> list[Span]:
        """Like :meth:`detect`, without the masked and normalised forms (bulk scoring)."""
        return [
            (c.type, c.start, c.end, round(min(c.score, 1.0), 3))
            for c in self._find(text, lang, region)
        ]

    def _find(self, text: str, lang: str | None, region: str | None) -> list[Candidate]:
        text = check_text(text)
        if not text or text.isspace():
            return []
        lang, regions = self._hints(text, lang, region)
        candidates: list[Candidate] = []
        if "@" in text or _has_spelled_at(text):
            candidates.extend(find_emails(text))
        if _ANY_DIGIT.search(text):
            candidates.extend(NumberReader(text, lang, regions).read())
        for compiled in self.rules.compiled:
            spec = compiled.spec
            for match in compiled.regex.finditer(text):
                start, end = match.start(), match.end()
                if end > start:
                    normalized = "".join(ch for ch in match.group().upper() if ch.isalnum())
                    candidates.append(Candidate(spec.type, start, end, spec.score, normalized))
        return self._resolve(text, candidates)

    def _hints(
        self, text: str, lang: str | None, region: str | None
    ) -> tuple[str | None, tuple[str, ...]]:
        if lang:
            lang = lang.strip().lower()[:2]
            lang = _LANG_ALIASES.get(lang, lang)
            if lang not in _LANGS:
                lang = None
        region = region.strip().upper() if region else None
        if not lang:
            lang = _REGION_LANG.get(region or "") or guess_language(text)
        key = (lang, region)
        regions = self._region_orders.get(key)
        if regions is None:
            # National phone formats only for the comment's country: the page's country and
            # the country of its language (English: GB and US).  Numbers of other countries
            # count only with their country code ("+46 ...", "0046 ...").
            hinted = [r for r in (region, _LANG_REGION.get(lang or "")) if r]
            if lang == "en":
                hinted += ["GB", "US"]
            regions = tuple(dict.fromkeys(hinted)) or self.regions
            if len(self._region_orders) < _MAX_REGION_ORDERS:
                self._region_orders[key] = regions
        return lang, regions

    def _resolve(self, text: str, candidates: list[Candidate]) -> list[Candidate]:
        """Highest score first (then longest); drop overlaps and allowlisted values."""
        if not candidates:
            return candidates
        chosen: list[Candidate] = []  # sorted by start, never overlapping
        starts: list[int] = []
        rules = self.rules
        for cand in sorted(candidates, key=lambda c: (-c.score, c.start - c.end, c.start)):
            if cand.score < REPORT_THRESHOLD:
                break
            at = bisect.bisect_left(starts, cand.start)
            if at > 0 and chosen[at - 1].end > cand.start:
                continue
            if at < len(chosen) and chosen[at].start < cand.end:
                continue
            if rules.allowlist and rules.is_allowed(text[cand.start : cand.end]):
                continue
            chosen.insert(at, cand)
            starts.insert(at, cand.start)
        return chosen


def _has_spelled_at(text: str) -> bool:
    """Whether ``text`` may hold a spelled-out "@" (cheap test before the e-mail search)."""
    lower = text.lower()
    return (
        " at " in lower
        or "(at)" in lower
        or "[at]" in lower
        or "snabel" in lower
        or " ät " in lower
        or _SPELLED_AT_RE.search(lower) is not None
    )
