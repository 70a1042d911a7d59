"""The masked excerpt a finding keeps: the comment around what was found, without the values and
without the names of the people in it.

What a detector finds (phone numbers, IDs, e-mails ...) is replaced by its masked form. Names are
personal data too, but no checksum tells a name from a word, so names are masked where the
comment itself says one is coming: an introduction ("Ich bin Sabine Falkenrath", "jeg hedder
...", "my name is ...") or a signature ("Mvh ...", "Regards, ..."), in da, de, fi, sv, nb and en.
After a cue that is only a verb ("ich bin", "jeg er", "it's", "olen" ...), a name needs two
capitalised words, so "Ich bin Kunde seit 2010" stays as it is; after a cue that can only
introduce a name, one is enough. Each name word keeps its initial: "S••• F•••".

This is an excerpt for the people reviewing findings, not a detector: a name without a cue in
front of it is not found (the engine in service/detection reports the values that get a comment
hidden; names alone never do).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import NamedTuple, Protocol

EXCERPT_CHARS = 280
_ELLIPSIS = "…"
_NAME_MASK = "•••"
_MAX_NAME_WORDS = 4

# Cues after which any capitalised word is a name.
_NAMING_CUES = (
    # en
    "my name is",
    "name is",
    "regards",
    "best regards",
    "kind regards",
    "best wishes",
    "sincerely",
    "cheers",
    "yours",
    # de
    "ich heiße",
    "ich heisse",
    "mein name ist",
    "mfg",
    "mit freundlichen grüßen",
    "mit freundlichen grüssen",
    "freundliche grüße",
    "viele grüße",
    "liebe grüße",
    "beste grüße",
    "gruß",
    "grüße",
    # da / nb
    "jeg hedder",
    "jeg heter",
    "mit navn er",
    "mitt navn er",
    "navnet mitt er",
    "mvh",
    "med venlig hilsen",
    "venlig hilsen",
    "med vennlig hilsen",
    "vennlig hilsen",
    "venlige hilsner",
    "hilsen",
    "hilsner",
    # sv
    "jag heter",
    "mitt namn är",
    "med vänliga hälsningar",
    "vänliga hälsningar",
    "vänlig hälsning",
    "hälsningar",
    "hälsning",
    # fi
    "nimeni on",
    "minun nimeni on",
    "terveisin",
    "ystävällisin terveisin",
    "t.",
    # labels
    "name:",
    "navn:",
    "namn:",
    "nimi:",
)
# Cues that are only "I am" / "this is": a name after them has at least two words.
_VERB_CUES = (
    "i am",
    "i'm",
    "i’m",
    "it's",
    "it’s",
    "it is",
    "this is",
    "ich bin",
    "hier ist",
    "hier schreibt",
    "jeg er",
    "det er",
    "dette er",
    "her er",
    "jag är",
    "det är",
    "här är",
    "olen",
    "täällä",
)
# Lower-case words inside a name: "Anna von Mahlmann", "Jan de Vries".
_PARTICLES = frozenset({"von", "van", "der", "den", "de", "zu", "af", "la", "le", "di", "da"})


def _cue_pattern(cues: Sequence[str]) -> re.Pattern[str]:
    # Longest first, so "med venlig hilsen" wins over "hilsen"; whole words only.
    alternatives = "|".join(re.escape(c) for c in sorted(cues, key=len, reverse=True))
    return re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])[\s,:;–-]*", re.IGNORECASE)


_NAMING = _cue_pattern(_NAMING_CUES)
_VERB = _cue_pattern(_VERB_CUES)
# A word of letters, with inner hyphens or apostrophes ("Anna-Lena", "O'Brien").
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_GAP = re.compile(r"[ \t]+")


def _capitalised(word: str) -> bool:
    return word[0].isupper() and any(ch.islower() for ch in word[1:])


def _name_words(text: str, pos: int) -> list[tuple[int, int]]:
    """The capitalised words of a name starting at ``pos`` (particles between them skipped)."""
    words: list[tuple[int, int]] = []
    pending_particle = False
    while len(words) < _MAX_NAME_WORDS:
        match = _WORD.match(text, pos)
        if match is None:
            break
        word = match.group()
        if _capitalised(word):
            words.append(match.span())
            pending_particle = False
        elif words and not pending_particle and word in _PARTICLES:
            pending_particle = True
        else:
            break
        gap = _GAP.match(text, match.end())
        if gap is None:
            break
        pos = gap.end()
    return words


def name_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each word of the names the comment introduces or signs with."""
    spans: set[tuple[int, int]] = set()
    for pattern, least in ((_NAMING, 1), (_VERB, 2)):
        for cue in pattern.finditer(text):
            words = _name_words(text, cue.end())
            if len(words) >= least:
                spans.update(words)
    return sorted(spans)


def _mask_word(word: str) -> str:
    return word[0] + _NAME_MASK


class Masked(Protocol):
    """What a detector reports: where a value is and how it is shown masked."""

    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def masked(self) -> str: ...


class _Replacement(NamedTuple):
    start: int
    end: int
    masked: str
    # What the excerpt centres on (a finding, not a name).
    anchor: bool


def _replacements(text: str, found: Sequence[Masked]) -> Iterator[_Replacement]:
    taken = sorted((f.start, f.end) for f in found)
    for f in found:
        yield _Replacement(f.start, f.end, f.masked, True)
    for start, end in name_spans(text):
        # A name inside a finding (an address, an e-mail) is masked with it already.
        if not any(s < end and start < e for s, e in taken):
            yield _Replacement(start, end, _mask_word(text[start:end]), False)


def masked_text(text: str, found: Sequence[Masked]) -> tuple[str, int, int]:
    """``text`` with every found value replaced by its masked form and every introduced name by
    its initials, and where the first finding starts and the last ends in the result."""
    pieces: list[str] = []
    pos = 0
    length = 0
    first = last = -1
    for r in sorted(_replacements(text, found), key=lambda r: r.start):
        if r.start < pos:
            continue  # the engine never overlaps; be safe anyway
        pieces.append(text[pos : r.start])
        length += r.start - pos
        if r.anchor and first < 0:
            first = length
        pieces.append(r.masked)
        length += len(r.masked)
        if r.anchor:
            last = length
        pos = r.end
    pieces.append(text[pos:])
    return "".join(pieces), max(first, 0), max(last, 0)


def masked_excerpt(text: str, found: Sequence[Masked], limit: int = EXCERPT_CHARS) -> str:
    """The masked comment, cut to about ``limit`` characters around what was found."""
    masked, first, last = masked_text(text, found)
    if len(masked) <= limit:
        return masked
    span = min(last - first, limit)
    start = max(0, first - (limit - span) // 2)
    end = min(len(masked), start + limit)
    start = max(0, end - limit)
    excerpt = masked[start:end].strip()
    return (_ELLIPSIS if start > 0 else "") + excerpt + (_ELLIPSIS if end < len(masked) else "")
