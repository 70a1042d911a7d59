"""Postal addresses: a street name, a house number, optionally door, postcode and city.

The search is anchored on house numbers (digit runs found anyway): the word before a
number must be a street name ("Vesterbrogade", "Mühlenweg", "Mannerheimintie",
"Storgatan", "Thorvald Meyers gate"), or, in English, the words after it must end in a
street type ("42 Church Lane").  The rest (door, floor, postcode and city in each
country's style) is read forwards with one anchored pattern.
"""

from __future__ import annotations

import re

from .candidate import Candidate
from .context import WEAK_CUES, Cue, cue_of_word, cues_before
from .types import EntityType

#: Endings of compound street names, per language (da, de, fi, sv, nb).
STREET_SUFFIXES = tuple(
    [
        "vej",
        "vejen",
        "gade",
        "gaden",
        "stræde",
        "strædet",
        "allé",
        "alle",
        "plads",
        "torv",
        "vænge",
        "vænget",
        "boulevard",
        "bakke",
        "bakken",
        "parken",
        "haven",
        "høj",
        "stien",
        "toften",
        "engen",
        "vang",
        "straße",
        "strasse",
        "str.",
        "weg",
        "gasse",
        "platz",
        "allee",
        "ring",
        "damm",
        "ufer",
        "chaussee",
        "steig",
        "pfad",
        "markt",
        "graben",
        "katu",
        "tie",
        "kuja",
        "polku",
        "väylä",
        "raitti",
        "rinne",
        "kaari",
        "ranta",
        "tori",
        "aukio",
        "puistikko",
        "mäki",
        "gatan",
        "vägen",
        "väg",
        "gränd",
        "torget",
        "torg",
        "stigen",
        "backen",
        "allén",
        "leden",
        "kajen",
        "stråket",
        "gata",
        "veien",
        "vegen",
        "vei",
        "veg",
        "gate",
        "gaten",
        "plass",
        "plassen",
        "brygge",
        "svingen",
    ]
)
# Shortest suffix first: "Kirkevej" must count as a compound of "vej", not fail as "kirkevej".
_SUFFIX_AT_END = re.compile(
    "(?:" + "|".join(re.escape(s) for s in sorted(STREET_SUFFIXES, key=len)) + ")$"
)
#: Street types written as a word of their own after the name ("Berliner Straße 5").
STREET_WORDS = frozenset(
    [
        "gate",
        "gata",
        "gaten",
        "vei",
        "veien",
        "vegen",
        "veg",
        "plass",
        "allé",
        "alle",
        "straße",
        "strasse",
        "str.",
        "weg",
        "allee",
        "platz",
        "gasse",
        "boulevard",
        "vej",
        "gade",
    ]
)
_SPACE = "[ \u00a0]"
_UPPER = "A-ZÆØÅÄÖÜÉ"
_CITY = (
    # "Odense", "Aarhus C", "København NV", "Frankfurt am Main", "Mo i Rana", "Bad Homburg"
    rf"(?:(?:Bad|Sankt|St\.|Ny|Lilla|Stora|Upplands|Neu)[ ])?[{_UPPER}][\w\-]+"
    rf"(?:[ ](?:[{_UPPER}]{{1,2}}\b|(?:am|an|im|in|bei|i|på)[ ][{_UPPER}][\w]+))?"
)
_POSTCODE_CITY = (
    # postcode and city: 4 digits (DK, NO), 5 (DE, FI), "123 45" (SE), after a comma, a
    # space or a line break ("Hovedgaden 1 3000 Helsingør", "Björkvägen 41\n113 46 STOCKHOLM")
    rf"(?:,?{_SPACE}*(?:\r?\n{_SPACE}*)?(?:\d{{4,5}}|\d{{3}}[ ]\d{{2}})[ ]{{CITY}})"
)
_HOUSE = (
    # house number, a range ("24-26") and a letter or a staircase and flat ("12B", "97 C 49")
    r"\d{1,4}(?:[-\u2013]\d{1,4})?(?:[ ][A-Z][ ]?\d{1,3}(?!\d|[ ]\d{2}\b)|[ ]?[A-Za-z](?!\w))?"
    # floor and door, flat or apartment number: "2. tv.", "2 th", "st. th.", "lgh 1201",
    # "H0101" (NO), "as. 4" (FI asunto), "2. etg."
    r"(?:,?[ ](?:\d{1,2}\.?[ ]?(?:sal|tv|th|mf)\b\.?|st\.?(?:[ ]?(?:tv|th|mf)\b\.?)?|"
    r"lgh\.?[ ]?\d{3,4}|[HUKL]\d{4}|as\.?[ ]?\d{1,3}(?!\d)|"
    r"\d{1,2}\.[ ]?(?:etg|etasje|krs)\.?))?"
)
_TAIL = re.compile(_HOUSE + _POSTCODE_CITY.replace("{CITY}", _CITY) + "?")
#: A street written in lower case: only with a postcode and city (also lower case) after.
_TAIL_LOWER = re.compile(
    _HOUSE + _POSTCODE_CITY.replace("{CITY}", r"[a-zæøåäöü][\w\-]{2,}(?:[ ][a-zæøåäöü]{1,2}\b)?")
)
_EN_STREET = (
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Close|Way|Court|Ct|Place|Pl|Crescent|"
    r"Gardens|Terrace|Grove|Hill|Square|Boulevard|Blvd|Parkway|Row|Walk|Mews)\b\.?"
)
_EN_CITY = r"[A-Z][a-z]+(?:[ ][A-Z][a-z]+)?"
_EN_ADDRESS = re.compile(
    rf"\d{{1,5}}[A-Za-z]?[ ](?:[A-Z][a-z'\u2019-]+[ ]){{1,3}}{_EN_STREET}"
    # "Apt 14", "Flat 3", "Unit 2B", "Suite 300"
    r"(?:,?[ ](?:Apt|Apartment|Unit|Suite|Ste|Flat)\.?[ ]?#?\d{1,4}[A-Z]?)?"
    # ", Bristol BS7 8PY", " Glasgow G12 8QQ", "\nSheffield\nS10 2TN" (UK) or
    # ", Austin, TX 78701", "\nDenver, CO 80203" (US)
    rf"(?:(?:,[ ]|,?\r?\n|[ ]){_EN_CITY}"
    rf"(?:(?:,?[ ]|,?\r?\n)[A-Z]{{1,2}}\d[A-Z\d]?[ ]?\d[A-Z]{{2}}\b"
    rf"|,[ ][A-Z]{{2}}[ ]\d{{5}}(?:-\d{{4}})?\b))?"
)
_EN_FLAT = re.compile(r"(?:Flat|Apartment|Apt\.?|Unit)[ ]\d{1,4}[A-Z]?,[ ]$")


def may_precede_house_number(text: str, number_start: int) -> bool:
    """Cheap test: the word before the number is capitalised or a street word."""
    space = text.rfind(" ", max(0, number_start - 40), number_start - 1)
    word = text[space + 1 : number_start - 1]
    lower = word.lower()
    return word[:1].isupper() or lower in STREET_WORDS or lower.endswith(STREET_SUFFIXES)


def address_at(text: str, number_start: int) -> Candidate | None:
    """The address whose house number starts at ``number_start``, if there is one."""
    street_start = _street_start(text, number_start)
    named_by_cue = False
    if (
        street_start is None
        and not _EN_NEXT.match(text, number_start)
        and _HOUSE_NUMBER.match(text, number_start) is not None
    ):
        # "Jeg bor på Strøget 12", "Adresse: Nyhavn 17": a street name of no known form,
        # right after a word saying an address follows.
        street_start = _capitalised_words_start(text, number_start)
        named_by_cue = street_start is not None
    lower_case = street_start is not None and text[street_start].islower()
    if street_start is not None:
        tail = (_TAIL_LOWER if lower_case else _TAIL).match(text, number_start)
        if tail is None:
            return None
        end = tail.end()
        if named_by_cue and text[end : end + 1] not in _VALUE_END:
            return None
    else:
        if text[number_start - 1 : number_start] == "-":
            return None
        english = _EN_ADDRESS.match(text, number_start)
        if english is None:
            return None
        street_start = number_start
        end = english.end()
        window = text[max(0, number_start - 20) : number_start]
        flat = _EN_FLAT.search(window)
        if flat is not None:
            street_start = number_start - len(window) + flat.start()
    cues = cues_before(text[max(0, street_start - 60) : street_start], limit=6)
    strong = next((hit.cue for hit in cues if hit.cue not in WEAK_CUES), None)
    if named_by_cue and not (strong is Cue.ADDRESS and cues[-1].distance <= 1):
        return None
    score = 0.9 if strong is Cue.ADDRESS else 0.75
    raw = text[street_start:end]
    return Candidate(
        EntityType.POSTAL_ADDRESS, street_start, end, score, " ".join(raw.casefold().split())
    )


_HOUSE_NUMBER = re.compile(r"\d{1,3}(?!\d)")
_EN_NEXT = re.compile(r"\d{1,5}[A-Za-z]? [A-Z]")
_VALUE_END = frozenset(["", ",", ".", "\n", "!", "?", ";", ")", " "])


def _capitalised_words_start(text: str, number_start: int) -> int | None:
    """Start of the one or two capitalised words right before a house number."""
    if number_start < 3 or text[number_start - 1] != " ":
        return None
    first = None
    position = number_start
    for _ in range(2):
        if position < 2 or text[position - 1] != " ":
            break
        previous = _word_start(text, position - 1)
        word = text[previous : position - 1]
        if len(word) < 3 or not word[0].isupper() or not word[1:].replace("-", "").isalpha():
            break
        if not _name_part(word) or word in _FLAT_WORDS:
            break
        first = position = previous
    return first


_FLAT_WORDS = frozenset(["Flat", "Apt", "Apartment", "Unit", "Suite"])


def _street_start(text: str, number_start: int) -> int | None:
    """Where the street name before a house number starts, or None if there is none."""
    if number_start < 4 or text[number_start - 1] != " ":
        return None
    word_start = _word_start(text, number_start - 1)
    word = text[word_start : number_start - 1]
    if len(word) < 3:
        return None
    lower = word.lower()
    if lower.endswith(STREET_SUFFIXES) and word[0].isalpha():
        suffix = _SUFFIX_AT_END.search(lower)
        if suffix is not None and suffix.start() >= 2:
            # A compound: "Kirkevej", "Mühlenweg" (not "Vej"); in lower case
            # ("rosenvænget 2 8900 randers") only with a postcode after (_TAIL_LOWER).
            return word_start
    if not word[0].isupper():
        lower = word
    if lower not in STREET_WORDS:
        return _prepositional_street(text, word_start, word)
    # "Thorvald Meyers gate 30", "Berliner Straße 5": the name is the capitalised words before.
    first = None
    position = word_start
    for _ in range(3):
        if position < 2 or text[position - 1] != " ":
            break
        previous = _word_start(text, position - 1)
        word = text[previous : position - 1]
        if not word or not word[0].isupper() or not _name_part(word):
            break
        first = position = previous
    return first


#: German streets named with a preposition: "Am Markt 1", "An der Kirche 3", "Zum Hafen 2".
_STREET_PREPOSITIONS = re.compile(
    r"(?:Am|Im|Zum|Zur|Beim|An[ ]der|An[ ]den|Auf[ ]dem|Auf[ ]der|In[ ]der|Unter[ ]den"
    r"|Hinter[ ]der)[ ]$"
)


def _prepositional_street(text: str, word_start: int, word: str) -> int | None:
    if not word[0].isupper() or not word[1:].replace("-", "").isalpha():
        return None
    match = _STREET_PREPOSITIONS.search(text, max(0, word_start - 12), word_start)
    if match is None or (match.start() > 0 and text[match.start() - 1] not in " \n:(\"'"):
        return None
    return match.start()


#: Greetings and the like, capitalised at the start of a comment, never part of a street.
_NOT_NAMES = frozenset(
    [
        "hei",
        "hej",
        "hallo",
        "hallå",
        "hi",
        "hello",
        "dear",
        "moi",
        "moin",
        "terve",
        "liebe",
        "lieber",
        "hey",
        "tjena",
        "heisann",
    ]
)


def _name_part(word: str) -> bool:
    """Whether a capitalised word can be part of a street name ("Meyers", "H.C.", "St.")."""
    if len(word) < 2 or word[-1] in ":,;!?)" or word.lower() in _NOT_NAMES:
        return False
    if word.isupper() and word.isalpha():
        return False  # "ADRESSEN MIN ER Thorvald Meyers gate": shouting, not a name
        return False
    if word[-1] == "." and not (len(word) <= 4 or word.count(".") > 1):
        return False
    return cue_of_word(word.lower().strip(".")) is None


_LEADING = "(\"'„“«‘"


def _word_start(text: str, end: int) -> int:
    """Start of the whitespace-delimited word that ends at ``end`` (leading quotes dropped)."""
    space = max(
        text.rfind(" ", max(0, end - 40), end),
        text.rfind("\n", max(0, end - 40), end),
        text.rfind(":", max(0, end - 40), end),
    )
    start = space + 1
    while start < end and text[start] in _LEADING:
        start += 1
    return start
