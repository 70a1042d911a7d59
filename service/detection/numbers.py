"""Everything written with digits: phone numbers, national IDs, IBANs, accounts, cards,
customer numbers (and the house numbers that anchor postal addresses).

One regular expression finds digit runs: groups of digits joined by one separator
(space, dot, dash, slash, bracket or a line break), so "+45 40 52 37 46", "28.45.19.73",
"030/36498290" and a number split over a line break are each one run.  A run is then
read left to right, longest value first (:meth:`NumberReader.read_run`): the form of the
digits says which types are possible (:func:`possible_types`, cheap checks before the
library validators), and the words before and after the run decide between them
(:func:`choose`).
"""

from __future__ import annotations

import itertools
import re
from typing import NamedTuple

from . import validators as v
from .addresses import address_at, may_precede_house_number
from .candidate import Candidate
from .context import WEAK_CUES, ContextIndex, Cue, CueHit, last_words
from .types import EntityType

T = EntityType

#: Findings below this score are not reported.
REPORT_THRESHOLD = 0.5

_SPACE = "[ \u00a0\u202f\t]"
_RUN = re.compile(
    # A full stop joins groups only when no space follows it: "12.03.2025. 020100 00079"
    # is a date, a sentence end and a number.
    rf"\d+(?:(?:\){_SPACE}?|\.|{_SPACE}?[-/\u2010\u2011\u2013]{_SPACE}?(?:\r?\n{_SPACE}*)?|{_SPACE}{{1,2}}"
    rf"|{_SPACE}*\r?\n{_SPACE}*)\(?\d+){{0,31}}"
)
_DIGITS = re.compile(r"\d+")
#: What makes a run an amount, a speed, a duration or a count rather than a value.
_AMOUNT_AFTER = re.compile(
    r",(?:\d|-)|\s?(?:%|€|\$|£|kr\b|kr\.|sek\b|nok\b|dkk\b|eur\b|euro\b|mbit|gbit|mb\b|gb\b|"
    r"kbit|mbps|gbps|minut|minuten|sekunden|timer\b|tuntia|stunden|uhr\b|kpl\b|stk\b|"
    r"cm\b|mm\b|km\b|kg\b)",
    re.IGNORECASE,
)
_AMOUNT_BEFORE = re.compile(r"(?:€|\$|£|\bkr\.?|\beur|\bsek|\bnok|\bdkk|\bkl\.?|\bklo)\s?$", re.I)
_IBAN = re.compile(
    r"(?P<cc>[A-Za-z]{2})(?P<check>\d{2})(?P<rest>(?:(?:[ \u00a0]|\r?\n)?[A-Za-z0-9]{1,4}){3,8})"
    r"(?![A-Za-z0-9])"
)
IBAN_COUNTRIES = frozenset(
    [
        "DK",
        "DE",
        "FI",
        "SE",
        "NO",
        "GB",
        "IS",
        "FO",
        "GL",
        "NL",
        "BE",
        "LU",
        "FR",
        "ES",
        "PT",
        "IT",
        "AT",
        "CH",
        "LI",
        "PL",
        "CZ",
        "SK",
        "HU",
        "EE",
        "LV",
        "LT",
        "IE",
    ]
)
_HETU = re.compile(r"\d{6}[-+A-FU-Ya-fu-y]\d{3}[0-9A-Ya-y](?![\w])")
_HETU_SIGNS = frozenset("-+ABCDEFUVWXYabcdefuvwxy")
#: "Your" (plural or formal) as customers address the company: "jeres IBAN", "eure IBAN".
_COMPANY_POSSESSIVES = frozenset(
    ["jeres", "eure", "euer", "eurer", "euren", "ert", "era", "deres", "teidän"]
)
#: Characters before a run that cannot glue it to a word.
_FREE_BEFORE = frozenset(" \n\t\u00a0(:;,.!?\"'«„“”‘’*/=[]{}<>|~^…–—")
#: Characters that can end an amount word ("kr. 100", "€100", "kl. 14.30").
_AMOUNT_HINTS = frozenset(" .€$£")


def _after_code_piece(text: str, start: int) -> bool:
    """Whether the word before ``start`` mixes letters and digits ("AA1", "X9Y")."""
    space = text.rfind(" ", max(0, start - 12), start - 1)
    word = text[space + 1 : start - 1]
    if not word.isalnum() or word.isalpha() or word.isdigit():
        return False  # most words: letters only (a letter is never a digit, nor the reverse)
    return (
        len(word) >= 2
        and any(ch.isdigit() for ch in word)
        and any(ch.isalpha() for ch in word)
        and word.isalnum()
    )


def _capital_follows(text: str, number_end: int) -> bool:
    """Whether a capitalised word follows the number (English: "42 Church Lane")."""
    return (
        text[number_end : number_end + 1] == " " and text[number_end + 1 : number_end + 2].isupper()
    )


_SORT_CODE = re.compile(r"\bsort(?:ing)?\b|\bs/c\b", re.IGNORECASE)
_BEFORE_WINDOW = 64
_AFTER_WINDOW = 48
_MAX_GROUPS = 8
#: The fewest digits a value needs to be reported without any context word (a national
#: phone number with its trunk prefix; an ID, a card).
_MIN_BARE_DIGITS = 9

_ID_TYPES = (T.DK_CPR, T.SE_PERSONNUMMER, T.NO_FODSELSNUMMER, T.DE_TAX_ID, T.FI_HETU)
_ID_BY_LANG = {
    "da": T.DK_CPR,
    "sv": T.SE_PERSONNUMMER,
    "nb": T.NO_FODSELSNUMMER,
    "de": T.DE_TAX_ID,
    "fi": T.FI_HETU,
}
#: The types a context word asks for.
_CUE_TYPES: dict[Cue, tuple[EntityType, ...]] = {
    Cue.CPR: (T.DK_CPR,),
    Cue.HETU: (T.FI_HETU,),
    Cue.SE_PNR: (T.SE_PERSONNUMMER,),
    Cue.NO_FNR: (T.NO_FODSELSNUMMER,),
    Cue.PNR: (T.DK_CPR, T.SE_PERSONNUMMER, T.NO_FODSELSNUMMER),
    Cue.NATIONAL_ID: _ID_TYPES,
    Cue.TAX_ID: (T.DE_TAX_ID,),
    Cue.IBAN: (T.IBAN,),
    Cue.BANK: (T.BANK_ACCOUNT,),
    Cue.MONEY: (T.BANK_ACCOUNT,),
    Cue.CARD: (T.PAYMENT_CARD,),
}
#: Cues under which a number of the wrong form is nothing at all: an ID failing its rule,
#: a gift card, an order number, a bank code given on its own.
_BLOCKING_CUES = frozenset(
    {
        Cue.CPR,
        Cue.HETU,
        Cue.SE_PNR,
        Cue.NO_FNR,
        Cue.PNR,
        Cue.NATIONAL_ID,
        Cue.TAX_ID,
        Cue.CARD,
        Cue.TRANSACTION,
        Cue.BANK_CODE,
    }
)


_NOT_PHONE_CUES = _BLOCKING_CUES | {Cue.BANK, Cue.IBAN, Cue.ACCOUNT}


class Possible(NamedTuple):
    """One reading of a number from its form alone."""

    type: EntityType
    base: float  # score before context
    normalized: str
    mobile: bool = False  # a mobile phone number (never a company's hotline)


class RunContext:
    """The cues around one digit run; the words after it are read only when needed."""

    __slots__ = ("_after", "_end", "_index", "before", "start")

    def __init__(self, index: ContextIndex | None, start: int, end: int) -> None:
        self._index = index
        self.start = start
        self._end = end
        self.before = index.before(start) if index is not None else []
        self._after: list[CueHit] | None = None

    @property
    def before_text(self) -> str:
        if self._index is None:
            return ""
        return self._index.text[max(0, self.start - _BEFORE_WINDOW) : self.start]

    @property
    def after_text(self) -> str:
        if self._index is None:
            return ""
        return self._index.text[self._end : self._end + _AFTER_WINDOW]

    @property
    def after(self) -> list[CueHit]:
        if self._after is None:
            self._after = self._index.after(self._end) if self._index is not None else []
        return self._after

    def strong(self, use_after: bool) -> Cue | None:
        """The nearest cue that is not weak: before the value, else right after it.

        A strong keyword right after the value ("... er mit kundenummer") beats a weak
        word further before it; a weak cue touching the value ("tlf. 1234 ...") keeps a
        word after it from deciding.
        """
        before = self.before
        if before:
            cue = before[-1].cue  # the walk stops at the first strong cue
            if cue not in WEAK_CUES:
                return cue
            if before[0].distance == 0 or _COMMA_NEXT.match(self.after_text) is not None:
                # "tlf. 1234 ..."; "tlf. er 1234, kortet ...": the words after a comma are
                # a new clause; the cue before stays the value's.
                return None
        if use_after:
            for hit in self.after:
                if hit.cue is Cue.COMPANY_PHONE:
                    break  # "..., jeg ringede til jer på 70 ...": about the next number
                if hit.cue not in WEAK_CUES and hit.distance <= 3:
                    return hit.cue
        return None

    def personal(self, use_after: bool) -> bool:
        """Whether the value is the writer's or the customer's: "call me on ...", "... som
        dit nye nummer" (a possessive after the value; "me" after it is about something
        else: "I called ..., and they told me")."""
        if any(hit.cue is Cue.PERSONAL or hit.cue is Cue.YOURS for hit in self.before):
            return True
        return use_after and any(hit.cue is Cue.YOURS for hit in self.after)

    def weak(self, use_after: bool) -> bool:
        """A weak cue ("nummer", "mig") before the value, or right after a whole run."""
        if any(hit.cue in WEAK_CUES for hit in self.before):
            return True
        return use_after and any(
            hit.cue is Cue.NUMBER or hit.cue is Cue.PHONE for hit in self.after
        )

    def after_cue(self, cue: Cue, within: int) -> bool:
        return any(hit.cue is cue and hit.distance <= within for hit in self.after)


_NO_CONTEXT = RunContext(None, 0, 0)
#: A comma right after a value (emoji and spaces between allowed): a new clause follows.
_COMMA_NEXT = re.compile(r"[\s\u2600-\u27bf\U0001f300-\U0001faff\ufe0f]*,")


class Shape(NamedTuple):
    """How a (sub-)run is written: its digits, group lengths and separators."""

    digits: str
    lens: tuple[int, ...]
    seps: tuple[str, ...]  # separators without white space: "", "-", ".", "/", "(", ")"
    lead: str  # "+" when written with a plus


class NumberReader:
    """Reads the digit runs of one text.  Short-lived: one per ``detect`` call."""

    __slots__ = ("_blocked_until", "_index", "found", "lang", "regions", "text")

    def __init__(self, text: str, lang: str | None, regions: tuple[str, ...]) -> None:
        self.text = text
        self._index: ContextIndex | None = None
        self.lang = lang
        self.regions = regions
        self.found: list[Candidate] = []
        self._blocked_until = -1

    @property
    def index(self) -> ContextIndex:
        """The text's context index, built on first use (most texts never need it)."""
        if self._index is None:
            self._index = ContextIndex(self.text)
        return self._index

    def read(self) -> list[Candidate]:
        text = self.text
        runs = list(_RUN.finditer(text))
        found = self.found
        for index, run in enumerate(runs):
            start = run.start()
            if start < self._blocked_until:
                continue
            run_text = run.group()
            end = start + len(run_text)
            if run_text.isdigit():
                groups = [(start, run_text)]
                total = len(run_text)
            else:
                groups = [(m.start(), m.group()) for m in _DIGITS.finditer(text, start, end)]
                if "\n" in run_text:
                    rest = _next_lines(text, groups)
                    if (
                        rest is not None
                        and len(groups) - len(rest) == 3
                        and _is_date_run(text, groups[:3])
                    ):
                        # "22/11/2024\n100000 is my ...": a date ends its line.
                        groups = rest
                        start = groups[0][0]
                total = sum(len(g) for _, g in groups)
            previous = text[start - 1] if start else " "
            if total < 5 and len(groups) == 1 and not previous.isalpha():
                # A short number: a house number, perhaps, or a bank code before its account.
                if previous == " " or previous == "\n" or previous == ":":
                    self._short_run(index, runs, start, end, run_text)
                continue
            if previous == "/" or previous == "=":
                continue  # a web address: "telnet.dk/sag/12345678", "?id=12345678"
            if previous == "+" or previous == "(":
                # "+45 ...", "(415) ...", "(+45) ...": the sign or bracket belongs to the value.
                start -= 1
                previous = text[start - 1] if start else " "
                if previous == "(" and text[start] == "+":
                    start -= 1
                    previous = text[start - 1] if start else " "
            prefix_start = start if previous in _FREE_BEFORE else self._prefix_start(start)
            if prefix_start is None:
                continue  # glued to a word: "120588V726W", "iPhone15"
            if previous == " " and _after_code_piece(text, start):
                continue  # the rest of a code: "1Z 999 AA1 01 2345 6784"
            first_start, first = groups[0]
            if prefix_start < start:
                if self._iban(prefix_start, text[prefix_start:start], groups):
                    continue
            elif (
                len(first) == 6
                and text[first_start + 6 : first_start + 7] in _HETU_SIGNS
                and self._hetu(first_start, end)
            ):
                continue
            if prefix_start == start and (
                len(first) <= 4 or (len(groups) == 1 and len(first) == 5)
            ):
                # A house number, also when a floor, door or postcode follows it in the same
                # run ("Birkevej 111 2. tv.", "Skolegata 109 9008 Tromsø").
                self._address(first_start, first_start + len(first))
            after = text[end : end + 1]
            if (after.isalpha() and prefix_start == start) or after == "@":
                line = _last_line(text, groups)
                if line is not None and len(line[1]) == 6:
                    line_start = line[0]
                    if text[line_start + 6 : line_start + 7] in _HETU_SIGNS:
                        self._hetu(line_start, end)  # "...\n010100a002h" on its own line
                continue  # part of a code or an address: "CC329121224DK", "anna1982@"
            if total < 5 or (len(groups) == 3 and total <= 8 and _is_date_run(text, groups)):
                continue
            if len(groups) == 2 and _is_year_range(groups):
                continue  # "2019-2023", "2019/20"
            if (
                previous in _AMOUNT_HINTS
                and total <= 7
                and _AMOUNT_BEFORE.search(text, max(0, start - 5), start) is not None
                and RunContext(self.index, start, end).strong(use_after=True) is None
            ):
                continue  # "kr. 299" (but "... 1.299,50 kr. 100000 er mit kundenummer")
            if _AMOUNT_AFTER.match(text, end):
                if len(groups) < 2 or text[groups[-1][0] - 1] not in " \n":
                    continue
                if total - len(groups[-1][1]) < 5:
                    continue
                # "(079) 666 38 42 23,5 %": the amount is the last group, not the value.
                groups = groups[:-1]
                end = groups[-1][0] + len(groups[-1][1])
            ctx = RunContext(self.index, prefix_start, end)
            before = ctx.before
            if before and before[-1].cue is Cue.TRANSACTION:
                # "ordre nr. 12345678", "Sendungsnummer 0034...": not personal; a value on
                # the next line is read on its own.
                rest = _next_lines(text, groups) if "\n" in run_text else None
                if rest is None:
                    continue
                groups = rest
                start = prefix_start = groups[0][0]
                ctx = RunContext(self.index, start, end)
            self.read_run(groups, text[prefix_start:start], prefix_start, ctx)
            if total <= 5 and index + 1 < len(runs) and text[end : end + 2] == ", ":
                self._code_comma_account(start, text[start:end], runs[index + 1], ctx)
        return found

    def _short_run(
        self, index: int, runs: list[re.Match[str]], start: int, end: int, digits: str
    ) -> None:
        """A run of at most four digits after a space: a house number or a bank code."""
        text = self.text
        self._address(start, end)
        if len(digits) == 4 and index + 1 < len(runs) and text[end : end + 2] == ", ":
            ctx = RunContext(self.index, start, start)
            self._code_comma_account(start, digits, runs[index + 1], ctx)

    def _address(self, number_start: int, number_end: int) -> None:
        text = self.text
        found = self.found
        if found and found[-1].end > number_start:
            return
        if _capital_follows(text, number_end) or (
            text[number_start - 1 : number_start] == " "
            and (
                text[number_start - 2 : number_start - 1].isalpha()
                or text[number_start - 2 : number_start - 1] == "."
            )
            and may_precede_house_number(text, number_start)
        ):
            address = address_at(text, number_start)
            if address is not None:
                found.append(address)

    def _prefix_start(self, start: int) -> int | None:
        """Start of a short letter prefix glued to the run ("AC80713109", "SAG-705184")."""
        text = self.text
        if start == 0:
            return 0
        previous = text[start - 1]
        if not (previous.isalnum() or previous in "@_-"):
            return start
        position = start - 1 if previous == "-" else start
        letters = position
        while (
            letters > 0
            and position - letters < 5
            and text[letters - 1].isascii()
            and text[letters - 1].isalpha()
        ):
            letters -= 1
        if letters == position or position - letters > 4:
            return start if previous == "-" and letters == position else None
        if letters > 0 and (text[letters - 1].isalnum() or text[letters - 1] in "@_"):
            return None
        return letters

    def _iban(self, prefix_start: int, prefix: str, groups: list[tuple[int, str]]) -> bool:
        """Read an IBAN starting at the prefix; True when the run is used up by it."""
        if len(prefix) != 2 or prefix.upper() not in IBAN_COUNTRIES or len(groups[0][1]) < 2:
            return False
        match = _IBAN.match(self.text, prefix_start)
        if match is None:
            return False
        parts = match.group("rest").split()
        head = (match.group("cc") + match.group("check")).upper()
        # The longest run of groups that is a valid IBAN ("... 64 Please" is cut back).
        for count in range(len(parts), 0, -1):
            compact = head + "".join(parts[:count]).upper()
            if len(compact) < 15:
                break
            if v.is_iban(compact):
                end = _end_after_chars(self.text, match.start("rest"), len(compact) - 4)
                if not self._company_owned(prefix_start):
                    self.found.append(Candidate(T.IBAN, prefix_start, end, 0.93, compact))
                self._blocked_until = end
                return True
        rest = match.group("rest")
        if sum(ch.isdigit() for ch in rest) >= 8 and len(rest.replace(" ", "")) >= 10:
            # IBAN-shaped but invalid (a misprinted company IBAN): nothing inside it is
            # read as anything else either.
            self._blocked_until = match.end()
            return True
        return False

    def _company_owned(self, start: int) -> bool:
        """ "eure IBAN", "jeres IBAN": a customer quoting the company's own account."""
        before = last_words(self.text[max(0, start - 40) : start], 3)
        return any(word in _COMPANY_POSSESSIVES for word in before)

    def _hetu(self, start: int, run_end: int) -> bool:
        """Read a henkilötunnus at ``start``; True when it used up the run."""
        match = _HETU.match(self.text, start)
        if match is None or not v.is_fi_hetu(match.group()):
            return False
        value = match.group()
        ctx = RunContext(self.index, start, match.end())
        strong = ctx.strong(use_after=match.end() >= run_end)
        if strong is Cue.TRANSACTION:
            return match.end() >= run_end
        if strong in (Cue.HETU, Cue.NATIONAL_ID):
            score = 0.97
        elif value[6] in "-+":
            # All-digit form: a Swedish or Danish number may look the same.
            score = 0.7 if self.lang in (None, "fi") else 0.55
        else:
            score = 0.9
        self.found.append(Candidate(T.FI_HETU, start, match.end(), score, value.upper()))
        if match.end() > run_end:
            self._blocked_until = match.end()
        return match.end() >= run_end and value[6] not in "-+"

    def _code_comma_account(
        self, start: int, code: str, following: re.Match[str], ctx: RunContext
    ) -> None:
        """ "clearing 1234, 1234567", "8327-9, 123 456 789-0": bank code, comma, account."""
        end = start + len(code)
        digits = "".join(ch for ch in code if ch.isdigit())
        if not 4 <= len(digits) <= 5 or following.start() != end + 2:
            return
        account = "".join(_DIGITS.findall(following.group()))
        if 6 <= len(account) <= 12 and ctx.strong(use_after=False) in (Cue.BANK, Cue.MONEY):
            self.found.append(
                Candidate(T.BANK_ACCOUNT, start, following.end(), 0.9, digits + account)
            )

    def read_run(
        self,
        groups: list[tuple[int, str]],
        prefix: str,
        prefix_start: int,
        ctx: RunContext,
    ) -> None:
        """Read one run left to right, taking the longest sub-run that is a value.

        Most runs hold one value; a run can hold two ("... 0101901234\\n12345678").  Context
        words reach only the sub-runs at the edges: a keyword before the run belongs to
        its first value.
        """
        text = self.text
        count = len(groups)
        number_start = prefix_start + len(prefix)
        lead = "+" if "+" in text[number_start : number_start + 2] else ""
        if count == 1:
            group_start, digits = groups[0]
            if len(digits) > 19:
                return
            reading = choose(
                Shape(digits, (len(digits),), (), lead),
                prefix,
                ctx,
                whole=True,
                lang=self.lang,
                regions=self.regions,
            )
            if reading is not None:
                kind, score, normalized = reading
                start = group_start
                if kind is T.PHONE_NUMBER:
                    start = number_start
                elif kind is T.CUSTOMER_NUMBER and prefix:
                    start = prefix_start
                end = group_start + len(digits)
                self.found.append(Candidate(kind, start, end, score, normalized))
            return
        lens = tuple([len(group) for _, group in groups])
        seps = tuple(
            [
                _separator(text[start + len(group) : following[0]])
                for (start, group), following in itertools.pairwise(groups)
            ]
        )
        # Where the writer broke the line (or left two spaces): two values may meet there.
        broken = tuple(
            [
                "\n" in text[start + len(group) : following[0]]
                or "  " in text[start + len(group) : following[0]]
                for (start, group), following in itertools.pairwise(groups)
            ]
        )
        all_digits = "".join([group for _, group in groups])
        offsets = [0]
        for length in lens:
            offsets.append(offsets[-1] + length)
        i = 0
        # After a letter prefix the run is a code ("AA1 01 2345 6784"): no part of it alone.
        last_start = 0 if prefix else count - 1
        value_end = -1  # the group the last value found ended with
        short_head = not any(broken) or offsets[broken.index(True) + 1] < 6
        while i <= last_start:
            if i > 0 and not (broken[i - 1] or value_end == i - 1):
                # A value starts where the writer broke the line or where another ended,
                # not in the middle of a date or a longer number ("2025-03-12\n0101...").
                i += 1
                continue
            if (
                i > 0
                and lens[i] == 6
                and text[groups[i][0] + 6 : groups[i][0] + 7] in _HETU_SIGNS
                and self._hetu(groups[i][0], groups[-1][0] + lens[-1])
            ):
                return
            for j in range(min(count, i + _MAX_GROUPS) - 1, i - 1, -1):
                digits = all_digits[offsets[i] : offsets[j + 1]]
                if not (4 if i == 0 or broken[i - 1] else _MIN_BARE_DIGITS) <= len(digits) <= 19:
                    # Inside a run, without context words, short numbers are nothing; a line
                    # of its own has its own words ("sagsnr 7712093\n30100000 er mit tlf").
                    continue
                if (
                    i == 0
                    and j < count - 1
                    and not broken[j]
                    and ctx.strong(use_after=False) is None
                ):
                    # The start of a longer run ("98 840 800 990") is no value of its own
                    # unless a keyword names it or the writer broke the line after it.
                    continue
                shape = Shape(digits, lens[i : j + 1], seps[i:j], lead if i == 0 else "")
                if i == 0 and lead and seps[:1] == ("(",):
                    shape = _drop_trunk_zero(shape)
                if i == 0:
                    sub_ctx = ctx
                elif broken[i - 1]:
                    # A new line starts a new value: its own words after it count.
                    sub_ctx = RunContext(self.index, groups[i][0], groups[-1][0] + lens[-1])
                else:
                    sub_ctx = _NO_CONTEXT
                reading = choose(
                    shape,
                    prefix if i == 0 else "",
                    sub_ctx,
                    # Words after a run broken over lines are about its last line only,
                    # unless the lines before are too short to be a value ("46 07\n65 53").
                    whole=j == count - 1 and (not any(broken[i:j]) or short_head),
                    lang=self.lang,
                    regions=self.regions,
                )
                if reading is None:
                    if (
                        i == 0
                        and j == count - 1
                        and count > 1
                        and not any(broken)
                        and ctx.strong(True) in _BLOCKING_CUES
                    ):
                        # "Gavekort 4571 2570 5909 4923": no part of it is more than the whole.
                        return
                    continue
                kind, score, normalized = reading
                start = groups[i][0]
                if i == 0 and kind is T.PHONE_NUMBER:
                    start = number_start
                elif i == 0 and kind is T.CUSTOMER_NUMBER and prefix:
                    start = prefix_start
                end = groups[j][0] + lens[j]
                if kind is T.PHONE_NUMBER and text[end : end + 1] == ")" and "(" in text[start:end]:
                    end += 1
                self.found.append(Candidate(kind, start, end, score, normalized))
                value_end = i = j
                break
            i += 1


def _separator(raw: str) -> str:
    """A separator between digit groups, white space (a line break too) dropped: "", "-",
    ".", "/", "(", ")"."""
    if raw == " ":
        return ""
    return raw.strip(" \u00a0\u202f\t\r\n")


def choose(
    shape: Shape,
    prefix: str,
    ctx: RunContext,
    *,
    whole: bool,
    lang: str | None,
    regions: tuple[str, ...],
) -> tuple[EntityType, float, str] | None:
    """The best reading of one (sub-)run given its context, or None."""
    digits = shape.digits
    lens = shape.lens
    if (
        len(lens) == 3
        and len(set(shape.seps)) == 1
        and shape.seps[0] in ("-", ".", "/")
        and v.is_date(_split(digits, lens))
    ):
        return None
    strong = ctx.strong(use_after=whole)
    if prefix:
        # Letters before the digits: only a customer number under its keyword.
        if strong in (Cue.CUSTOMER, Cue.ACCOUNT):
            return T.CUSTOMER_NUMBER, 0.9, prefix.rstrip("-").upper() + digits
        return None
    if strong is Cue.TRANSACTION:
        return None
    if strong is Cue.CUSTOMER:
        return T.CUSTOMER_NUMBER, 0.92, digits
    # Under a word naming another type ("CPR", "Kontonummer", "Karte") a phone reading is
    # never chosen: skip the phonenumbers lookup, the costliest check.
    possible = possible_types(shape, lang, regions, phones=strong not in _NOT_PHONE_CUES)
    if strong is Cue.ACCOUNT:
        # "sort code 20-12-34, account number 12345678" and "account 20-12-34 12345678" are
        # bank accounts; "account number 8401904647" on its own is the customer's account
        # with the company.
        if _SORT_CODE.search(ctx.before_text) or any(
            p.type is T.BANK_ACCOUNT and p.base >= 0.8 for p in possible
        ):
            return T.BANK_ACCOUNT, 0.92, digits
        return T.CUSTOMER_NUMBER, 0.9, digits
    if (
        strong is Cue.BANK
        and 5 <= len(digits) <= 15
        and not any(p.type is T.BANK_ACCOUNT for p in possible)
        and not (len(lens) > 1 and any(p.type in _ID_TYPES for p in possible))
    ):
        # "Kto. 123456789", "Kontonr.: 50743005", "Kontonummer: 1234 567 890 1": a domestic
        # account after its keyword, in whatever form the bank writes it.
        return T.BANK_ACCOUNT, 0.88, digits
    if not possible:
        return None
    if strong in _CUE_TYPES:
        wanted = _CUE_TYPES[strong]
        matching = [p for p in possible if p.type in wanted]
        if matching:
            preferred = _ID_BY_LANG.get(lang or "")
            if len(matching) > 1:
                # "my Swedish personnummer", "I live in Norway": the country named wins.
                preferred = _country_named(ctx) or preferred
            chosen = max(matching, key=lambda p: (p.type is preferred, p.base))
            return chosen.type, 0.95, chosen.normalized
        if strong in _BLOCKING_CUES:
            return None
    elif strong in _BLOCKING_CUES:
        if strong is Cue.BANK_CODE:
            # "reg.nr. 1234-1234567890": code and account written together are one value.
            joined = [p for p in possible if p.type is T.BANK_ACCOUNT and len(lens) > 1]
            return (T.BANK_ACCOUNT, 0.85, joined[0].normalized) if joined else None
        return None
    if (
        strong is None
        and whole
        and not (ctx.before and ctx.before[0].distance == 0)
        and ctx.after_cue(Cue.TRANSACTION, within=1)
    ):
        return None  # "4571 2570 5909 4923 fra gavekortet"
    company = (strong is Cue.COMPANY_PHONE and not ctx.personal(whole)) or (
        strong is None
        and whole
        and not ctx.weak(whole)
        and ctx.after_cue(Cue.COMPANY_PHONE, within=1)
    )
    best: tuple[EntityType, float, str] | None = None
    for kind, base, normalized, mobile in possible:
        score = base
        if kind is T.PHONE_NUMBER:
            if company and not mobile:
                # The number the writer dialled, or the company's "call us": a hotline.
                # Companies publish landlines and service numbers, not mobiles.
                continue
            if ctx.weak(whole):
                score += 0.3
        elif kind in _ID_TYPES and _ID_BY_LANG.get(lang or "") is kind:
            score += 0.1
        if best is None or score > best[1]:
            best = (kind, score, normalized)
    if best is None or best[1] < REPORT_THRESHOLD:
        return None
    return best


_COUNTRY_WORDS = re.compile(
    r"(?P<se>swed|schwed|svensk|sverige|ruotsi)|(?P<dk>danish|dansk|dänisch|danmark|denmark|tansk)"
    r"|(?P<no>norw|norsk|norge|norja|norweg)|(?P<fi>finn|suomi|suomal|finland)"
    r"|(?P<de>german|deutsch|saksa|tysk)",
    re.IGNORECASE,
)
_COUNTRY_TYPES = {
    "se": T.SE_PERSONNUMMER,
    "dk": T.DK_CPR,
    "no": T.NO_FODSELSNUMMER,
    "fi": T.FI_HETU,
    "de": T.DE_TAX_ID,
}


def _country_named(ctx: RunContext) -> EntityType | None:
    """The ID type of a country named around the value, if exactly one is named."""
    named = {
        match.lastgroup
        for text in (ctx.before_text, ctx.after_text)
        for match in _COUNTRY_WORDS.finditer(text)
    }
    if len(named) == 1:
        return _COUNTRY_TYPES[named.pop() or ""]
    return None


def possible_types(
    shape: Shape, lang: str | None, regions: tuple[str, ...], *, phones: bool = True
) -> list[Possible]:
    """Every type the digits can be, with a base score from their form alone.

    Cheap tests (length, grouping, leading digits) come first; the checksum and date
    validators run only on what passes them.
    """
    digits, lens, seps = shape.digits, shape.lens, shape.seps
    n = len(digits)
    compact = len(lens) == 1
    kinds = set(seps)
    out: list[Possible] = []
    in_fours = compact or (
        kinds <= {"", "-"} and (all(x == 4 for x in lens[:-1]) or lens == (4, 3, 3, 3))
    )
    if 13 <= n <= 19 and in_fours and v.is_payment_card(digits):
        out.append(Possible(T.PAYMENT_CARD, 0.8, digits))
    if n == 10 and (compact or (lens == (6, 4) and kinds <= {"-", "", "+"})):
        if v.is_dk_cpr(digits):
            base = 0.45 if compact else 0.55
            if v.dk_cpr_mod11(digits):
                base += 0.1
            out.append(Possible(T.DK_CPR, base, digits))
        if v.is_se_personnummer(digits):
            out.append(Possible(T.SE_PERSONNUMMER, 0.45 if compact else 0.6, digits))
        if lens == (6, 4) and kinds <= {"-", "+"}:
            hetu = digits[:6] + seps[0] + digits[6:]
            if v.is_fi_hetu(hetu):
                out.append(Possible(T.FI_HETU, 0.55, hetu))
    long_form = compact or (lens == (8, 4) and kinds <= {"-", ""})
    if n == 12 and long_form and v.is_se_personnummer(digits):
        out.append(Possible(T.SE_PERSONNUMMER, 0.65, digits[2:]))
    if n == 11:
        if (compact or (lens == (6, 5) and kinds == {""})) and v.is_no_fodselsnummer(digits):
            out.append(Possible(T.NO_FODSELSNUMMER, 0.55, digits))
        if (compact or (lens == (2, 3, 3, 3) and kinds == {""})) and v.is_de_tax_id(digits):
            out.append(Possible(T.DE_TAX_ID, 0.45 if compact else 0.6, digits))
        if (compact or (lens == (4, 2, 5) and kinds <= {"", "."})) and v.is_no_bank_account(digits):
            out.append(Possible(T.BANK_ACCOUNT, 0.35 if compact else 0.8, digits))
    # Domestic accounts written with their bank code: GB sort code, DK reg.nr., SE clearing.
    if lens == (2, 2, 2, 8) and seps == ("-", "-", ""):
        out.append(Possible(T.BANK_ACCOUNT, 0.8, digits))
    # DK: reg.nr. (4 digits) + kontonummer (up to 10); SE: clearingnummer (4 digits, 5 for
    # Swedbank's 8xxx-x) + kontonummer (7 to 10): the account part in any grouping, after
    # a dash, a slash or a space ("1234-1234567890", "5301/4723023", "3001 781 709 0743",
    # "1345-785 80 99", "8327-9 123 456 789").
    if (
        len(lens) >= 2
        and 6 <= n - lens[0] <= 10
        and seps[0] in ("-", "", "/")
        and set(seps[1:]) <= {"", "-"}
        and (lens[0] == 4 or (lens[0] == 5 and digits[0] == "8"))
    ):
        dashed_dk = seps == ("-",) and lens == (4, 10)
        out.append(Possible(T.BANK_ACCOUNT, 0.6 if dashed_dk else 0.4, digits))
    # Phone numbers: a "+" or "00" means the country code is written.
    international = bool(shape.lead) or digits.startswith("00")
    phone_digits = digits[2:] if digits.startswith("00") and not shape.lead else digits
    if phones and 6 <= len(phone_digits) <= 15 and ("." not in kinds or len(lens) >= 3):
        phone = v.phone_number(phone_digits, international, regions, lang is not None)
        if phone is not None:
            if international:
                base = 0.85
            elif digits[0] == "0" and n >= 9:
                base = 0.65  # national trunk prefix: DE, FI, SE, GB
            elif phone.e164.startswith("+1") and not compact:
                base = 0.65
            else:
                base = 0.45  # 8 bare digits (DK, NO): needs a word saying it is a number
            out.append(Possible(T.PHONE_NUMBER, base, phone.e164, phone.mobile))
    return out


def _next_lines(text: str, groups: list[tuple[int, str]]) -> list[tuple[int, str]] | None:
    """The groups after the first line break inside a run, if any."""
    for k in range(1, len(groups)):
        if "\n" in text[groups[k - 1][0] + len(groups[k - 1][1]) : groups[k][0]]:
            return groups[k:]
    return None


def _last_line(text: str, groups: list[tuple[int, str]]) -> tuple[int, str] | None:
    """The first group of the last line of a run broken over lines, if it is."""
    for k in range(len(groups) - 1, 0, -1):
        if "\n" in text[groups[k - 1][0] + len(groups[k - 1][1]) : groups[k][0]]:
            return groups[k]
    return None


def _is_year_range(groups: list[tuple[int, str]]) -> bool:
    first, second = groups[0][1], groups[1][1]
    if len(first) != 4 or first[:2] not in ("19", "20"):
        return False
    return (len(second) == 4 and second[:2] in ("19", "20")) or len(second) == 2


def _is_date_run(text: str, groups: list[tuple[int, str]]) -> bool:
    """ "12.02.2025", "2024-06-25", "7/2/23" written as one run."""
    first_end = groups[0][0] + len(groups[0][1])
    sep = text[first_end : groups[1][0]]
    if sep not in (".", "-", "/") or text[groups[1][0] + len(groups[1][1]) : groups[2][0]] != sep:
        return False
    return v.is_date([g for _, g in groups])


def _split(digits: str, lens: tuple[int, ...]) -> list[str]:
    parts = []
    offset = 0
    for length in lens:
        parts.append(digits[offset : offset + length])
        offset += length
    return parts


def _drop_trunk_zero(shape: Shape) -> Shape:
    """ "+49 (0)30 1234567": the bracketed trunk zero is not dialled."""
    lens, seps = shape.lens, shape.seps
    if len(lens) >= 3 and lens[1] == 1 and shape.digits[lens[0]] == "0" and seps[1] == ")":
        digits = shape.digits[: lens[0]] + shape.digits[lens[0] + 1 :]
        return Shape(digits, (lens[0], *lens[2:]), (" ", *seps[2:]), shape.lead)
    return shape


def _end_after_chars(text: str, start: int, count: int) -> int:
    """The offset after ``count`` non-space characters from ``start``."""
    seen = 0
    position = start
    while seen < count and position < len(text):
        if not text[position].isspace():
            seen += 1
        position += 1
    return position
