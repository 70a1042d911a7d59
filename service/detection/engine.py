"""The detector: text in, findings out.

How a text is read, cheapest first:

1. A few compiled regular expressions find the places worth a look: runs of digits
   (with the spaces, dots, dashes, slashes and line breaks people put in them), e-mail
   markers (``@``, ``(at)``, ``snabel-a`` ...), IBAN- and henkilötunnus-shaped tokens.
   Everything else in the text costs nothing more.
2. Each place is tried against the value types its shape allows, with cheap checks
   first (length, leading digits, Luhn, dates) and the library validators
   (python-stdnum, phonenumbers) only on what survives.
3. The words right before (and after) the value decide between look-alikes and raise or
   lower the score (:mod:`service.detection.context`).
4. Overlapping readings are resolved by score, then the tenant's allowlist removes the
   company's own public values.

Every step is linear in the length of the text: the regular expressions have no nested
unbounded repetition, context windows and digit groups per candidate are bounded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from . import validators as v
from .language import guess_language
from .context import Cue, CueHit, cues_after, cues_before
from .masking import mask
from .tenant_rules import TenantRules
from .types import MAX_TEXT_CHARS, EntityType, Finding, InvalidTextError, TextTooLongError

T = EntityType

#: Findings below this score are not reported.
REPORT_THRESHOLD = 0.5

_LANG_REGION = {"da": "DK", "de": "DE", "fi": "FI", "sv": "SE", "nb": "NO", "no": "NO", "en": "GB"}
_REGION_LANG = {"DK": "da", "DE": "de", "FI": "fi", "SE": "sv", "NO": "nb", "GB": "en", "US": "en"}

_SPACE = "[ \u00a0\u202f\t]"
# A digit run: groups of digits joined by one separator (space, dot, dash, slash, a closing
# bracket or a line break).  An optional short letter prefix is kept for customer numbers
# like "AC80713109".
_CHAIN = re.compile(
    rf"(?<![\w@])(?P<prefix>[A-Za-z]{{1,4}}-?)?(?P<lead>\+|\((?=\d))?\d+"
    rf"(?:(?:\){_SPACE}?|{_SPACE}?[-./\u2010\u2011\u2013]{_SPACE}?|{_SPACE}{{1,2}}"
    rf"|{_SPACE}*\r?\n{_SPACE}*)\(?\d+)*"
)
_DIGITS = re.compile(r"\d+")
_AMOUNT_AFTER = re.compile(
    r",(?:\d|-)|\s?(?:%|€|\$|£|kr\b|kr\.|sek\b|nok\b|dkk\b|eur\b|euro\b|mbit|gbit|mb\b|gb\b|"
    r"kbit|mbps|gbps|minut|minuten|sekunden|timer\b|tuntia|stunden|uhr\b|kpl\b|stk\b|"
    r"x\b|cm\b|mm\b|km\b|kg\b)",
    re.IGNORECASE,
)
_AMOUNT_BEFORE = re.compile(r"(?:€|\$|£|kr\.?|eur|sek|nok|dkk|kl\.?|klo)\s?$", re.IGNORECASE)
_IBAN = re.compile(
    r"(?<![\w])(?P<cc>[A-Za-z]{2})(?P<check>\d{2})(?P<rest>(?:[ \u00a0]?[A-Za-z0-9]{1,4}){3,8})"
    r"(?![A-Za-z0-9])"
)
_IBAN_COUNTRIES = frozenset(
    "DK DE FI SE NO GB IS FO GL NL BE LU FR ES PT IT AT CH LI PL CZ SK HU EE LV LT IE".split()
)
_HETU = re.compile(r"(?<![\w-])\d{6}[-+A-FU-Ya-fu-y]\d{3}[0-9A-Ya-y](?![\w])")
_SENTENCE_END = re.compile(r"[.!?]\s|\n")
_SORT_CODE = re.compile(r"sort(?:ing)?\s*code", re.IGNORECASE)

# E-mail: an "@" or a spelled-out "at" between a local part and a domain.
_EMAIL_MARK = re.compile(
    r"@|\s*[(\[{<]\s*(?:at|ät|a|snabel-?a)\s*[)\]}>]\s*|\s+(?:at|ät|snabel-a|snabela)\s+",
    re.IGNORECASE,
)
_DOT_WORD = r"(?:\s*[(\[{<]\s*(?:dot|punkt|piste|prikk|punktum)\s*[)\]}>]\s*|\s+(?:dot|punkt|piste|prikk|punktum)\s+)"
_EMAIL_LOCAL = re.compile(rf"(?:[\w+-]+(?:\.|{_DOT_WORD}))*[\w+-]+$", re.IGNORECASE)
_EMAIL_DOMAIN = re.compile(
    rf"(?:[^\W_](?:[\w-]{{0,62}}[^\W_])?(?:\.|{_DOT_WORD}))+(?P<tld>[a-z]{{2,12}})(?![\w-])",
    re.IGNORECASE,
)
_DOT_WORD_RE = re.compile(_DOT_WORD, re.IGNORECASE)
_TLDS = frozenset(
    "com net org info biz eu io co uk dk de fi se no nu is ee at ch nl be fr it es pl us ca "
    "me tv app dev online email mail group ax gl fo lt lv".split()
)

# Postal addresses: a street word, a house number and optionally door, postcode and city.
_STREET_SUFFIXES = tuple(
    """
    vej vejen gade gaden stræde strædet allé alle plads torv vænge vænget boulevard bakke
    bakken parken haven høj stien toften engen vang
    straße strasse str. weg gasse platz allee ring damm ufer chaussee steig pfad markt graben
    katu tie kuja polku väylä raitti rinne kaari ranta tori aukio puistikko mäki
    gatan vägen väg gränd torget torg stigen backen allén leden kajen stråket gata
    veien vegen vei veg gate gaten plass plassen brygge svingen
    """.split()
)
_STREET_WORDS = frozenset(
    "gate gata gaten vei veien vegen veg plass allé alle straße strasse str. weg allee platz "
    "gasse ring boulevard vej gade".split()
)
_EN_STREET = (
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Close|Way|Court|Ct|Place|Pl|Crescent|"
    r"Gardens|Terrace|Grove|Hill|Square|Boulevard|Blvd|Parkway|Row|Walk|Mews)\b\.?"
)
_UPPER = "A-ZÆØÅÄÖÜÉ"
_CITY = rf"[{_UPPER}][\w\-]+(?:[ ](?:[{_UPPER}][\w\-]+|[{_UPPER}]{{1,2}}\b|(?:am|an|im|in|bei)[ ][{_UPPER}][\w]+))?"
_ADDRESS_TAIL = re.compile(
    rf"\d{{1,4}}(?:[ ][A-Z][ ]?\d{{1,3}}(?![\d])|[ ]?[A-Za-z](?![\w]))?"
    rf"(?:,?[ ](?:\d{{1,2}}\.[ ]?(?:sal|tv|th|mf)\.?|st\.(?:[ ]?(?:tv|th|mf)\.?)?|"
    rf"lgh\.?[ ]?\d{{3,4}}|[HUKL]\d{{4}}|\d{{1,2}}\.[ ]?(?:etg|etasje|krs)\.?))?"
    rf"(?:,?{_SPACE}*(?:\r?\n{_SPACE}*)?(?:\d{{4,5}}|\d{{3}}[ ]\d{{2}})[ ]{_CITY})?"
)
_EN_ADDRESS = re.compile(
    rf"\d{{1,5}}[A-Za-z]?[ ](?:[A-Z][a-z'\u2019-]+[ ]){{1,3}}{_EN_STREET}"
    rf"(?:,[ ](?:[A-Z][a-z]+(?:[ ][A-Z][a-z]+)?)(?:[ ][A-Z]{{1,2}}\d[A-Z\d]?[ ]?\d[A-Z]{{2}}\b"
    rf"|,[ ][A-Z]{{2}}[ ]\d{{5}}(?:-\d{{4}})?\b))?"
)
_EN_FLAT = re.compile(r"(?:Flat|Apartment|Apt\.?|Unit)[ ]\d{1,4}[A-Z]?,[ ]$")
_ANY_DIGIT = re.compile(r"\d")

_ID_TYPES = (T.DK_CPR, T.SE_PERSONNUMMER, T.NO_FODSELSNUMMER, T.DE_TAX_ID, T.FI_HETU)
_ID_BY_LANG = {
    "da": T.DK_CPR,
    "sv": T.SE_PERSONNUMMER,
    "nb": T.NO_FODSELSNUMMER,
    "de": T.DE_TAX_ID,
    "fi": T.FI_HETU,
}
_CUE_TYPES: dict[Cue, tuple[EntityType, ...]] = {
    Cue.CUSTOMER: (T.CUSTOMER_NUMBER,),
    Cue.PHONE: (T.PHONE_NUMBER,),
    Cue.CPR: (T.DK_CPR,),
    Cue.HETU: (T.FI_HETU,),
    Cue.SE_PNR: (T.SE_PERSONNUMMER,),
    Cue.NO_FNR: (T.NO_FODSELSNUMMER,),
    Cue.PNR: (T.DK_CPR, T.SE_PERSONNUMMER, T.NO_FODSELSNUMMER),
    Cue.NATIONAL_ID: _ID_TYPES,
    Cue.TAX_ID: (T.DE_TAX_ID,),
    Cue.IBAN: (T.IBAN,),
    Cue.BANK: (T.BANK_ACCOUNT, T.IBAN),
    Cue.MONEY: (T.BANK_ACCOUNT, T.IBAN),
    Cue.CARD: (T.PAYMENT_CARD,),
}
#: Cues under which a number of the wrong form is nothing at all (an ID failing its rule,
#: a gift card, an order number).
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


@dataclass(slots=True)
class _Candidate:
    type: EntityType
    start: int
    end: int
    score: float
    normalized: str


@dataclass(slots=True)
class _Context:
    """The cues around one candidate."""

    before: list[CueHit] = field(default_factory=list)
    after: list[CueHit] = field(default_factory=list)
    before_text: str = ""

    @property
    def strong(self) -> Cue | None:
        for hit in self.before:
            if hit.cue not in (Cue.NUMBER, Cue.PERSONAL):
                return hit.cue
        for hit in self.after:
            if hit.cue not in (Cue.NUMBER, Cue.PERSONAL) and hit.distance <= 2:
                return hit.cue
        return None

    @property
    def weak(self) -> bool:
        return any(hit.cue in (Cue.NUMBER, Cue.PERSONAL) for hit in self.before)

    def after_cue(self, cue: Cue, within: int = 2) -> bool:
        return any(hit.cue is cue and hit.distance <= within for hit in self.after)


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise InvalidTextError(f"text must be a string, not {type(text).__name__}")
    if len(text) > MAX_TEXT_CHARS:
        raise TextTooLongError(len(text))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidTextError(f"text is not valid Unicode: {exc.reason}") from None
    return text


class Detector:
    """Finds personal data in texts.  Build once (it compiles the tenant's rules), reuse.

    A detector holds no state between calls and is safe to share between threads.
    """

    __slots__ = ("rules", "regions")

    def __init__(self, rules: TenantRules | None = None, regions: Iterable[str] = ()) -> None:
        self.rules = rules or TenantRules()
        self.regions = tuple(region.upper() for region in regions) or v.DEFAULT_REGIONS

    def detect(self, text: str, lang: str | None = None, region: str | None = None) -> list[Finding]:
        """The personal data in ``text``, sorted by position, never overlapping.

        ``lang`` (da, de, fi, sv, nb, en) and ``region`` (DK, DE, FI, SE, NO, GB, US) are
        hints: the page's language and country, when known.  Raises
        :class:`TextTooLongError` above :data:`MAX_TEXT_CHARS` and
        :class:`InvalidTextError` for a non-string or invalid Unicode.
        """
        text = _check_text(text)
        if not text.strip():
            return []
        lang = (lang or "").lower()[:2] or None
        if lang == "no":
            lang = "nb"
        region = region.upper() if region else None
        if lang is None and region is not None:
            lang = _REGION_LANG.get(region)
        if lang is None:
            lang = guess_language(text)
        regions = self._region_order(lang, region)

        candidates: list[_Candidate] = []
        blocked: list[tuple[int, int]] = []
        if "@" in text or "at" in text or "snabel" in text or "ät" in text:
            candidates.extend(self._emails(text))
        if _ANY_DIGIT.search(text):
            candidates.extend(self._ibans(text, blocked))
            candidates.extend(self._hetus(text, lang))
            candidates.extend(self._numbers(text, lang, regions, blocked))
        for compiled in self.rules.compiled:
            spec = compiled.spec
            for match in compiled.regex.finditer(text):  # type: ignore[attr-defined]
                start, end = match.start(), match.end()
                if end > start:
                    raw = text[start:end]
                    candidates.append(_Candidate(spec.type, start, end, spec.score, _normal(raw)))
        return self._resolve(text, candidates)

    # -- helpers -------------------------------------------------------------------------

    def _region_order(self, lang: str | None, region: str | None) -> tuple[str, ...]:
        first: list[str] = []
        if region:
            first.append(region)
        if lang and lang in _LANG_REGION and _LANG_REGION[lang] not in first:
            first.append(_LANG_REGION[lang])
        return tuple(first) + tuple(r for r in self.regions if r not in first)

    def _resolve(self, text: str, candidates: list[_Candidate]) -> list[Finding]:
        chosen: list[_Candidate] = []
        taken: list[tuple[int, int]] = []
        ordered = sorted(candidates, key=lambda c: (-c.score, -(c.end - c.start), c.start))
        for cand in ordered:
            if cand.score < REPORT_THRESHOLD:
                break
            if any(cand.start < e and s < cand.end for s, e in taken):
                continue
            if self.rules.allowlist and self.rules.is_allowed(text[cand.start : cand.end]):
                continue
            chosen.append(cand)
            taken.append((cand.start, cand.end))
        chosen.sort(key=lambda c: c.start)
        return [
            Finding(
                type=c.type,
                start=c.start,
                end=c.end,
                score=round(min(c.score, 1.0), 3),
                masked=mask(c.type, text[c.start : c.end], c.normalized),
                normalized=c.normalized,
            )
            for c in chosen
        ]

    # -- e-mail ----------------------------------------------------------------------------

    def _emails(self, text: str) -> Iterable[_Candidate]:
        for mark in _EMAIL_MARK.finditer(text):
            start, end = mark.start(), mark.end()
            if start == 0:
                continue
            domain = _EMAIL_DOMAIN.match(text, end)
            if domain is None or domain.group("tld").lower() not in _TLDS:
                continue
            window = text[max(0, start - 80) : start]
            local = _EMAIL_LOCAL.search(window)
            if local is None:
                continue
            local_text = local.group()
            spelled = mark.group() != "@"
            if spelled and (mark.group().strip() == "" or mark.group().strip().lower() == "at"):
                # " at " in running text: demand a domain written like one.
                if "." not in domain.group() and not _DOT_WORD_RE.search(domain.group()):
                    continue
            value_start = start - len(window) + local.start()
            local_norm = _DOT_WORD_RE.sub(".", local_text).strip(".")
            domain_norm = _DOT_WORD_RE.sub(".", domain.group())
            if not local_norm or ".." in local_norm:
                continue
            normalized = f"{local_norm}@{domain_norm}".lower()
            score = 0.97 if not spelled else 0.9
            yield _Candidate(T.EMAIL_ADDRESS, value_start, domain.end(), score, normalized)

    # -- IBAN, henkilötunnus ------------------------------------------------------------------

    def _ibans(self, text: str, blocked: list[tuple[int, int]]) -> Iterable[_Candidate]:
        for match in _IBAN.finditer(text):
            groups = match.group("rest").split()
            valid = False
            head = match.group("cc") + match.group("check")
            # The longest prefix of the groups that is a valid IBAN ("... 64 Please" is
            # cut back to the account).
            for count in range(len(groups), 0, -1):
                compact = (head + "".join(groups[:count])).upper()
                if len(compact) < 15:
                    break
                if v.is_iban(compact):
                    valid = True
                    end = match.start("rest")
                    rest = match.group("rest")
                    consumed = 0
                    seen = 0
                    for i, ch in enumerate(rest):
                        if not ch.isspace():
                            seen += 1
                        if seen == sum(len(g) for g in groups[:count]):
                            consumed = i + 1
                            break
                    end += consumed
                    blocked.append((match.start(), end))
                    yield _Candidate(T.IBAN, match.start(), end, 0.93, compact)
                    break
            if not valid:
                if (
                    match.group("cc").upper() in _IBAN_COUNTRIES
                    and len(match.group("rest").replace(" ", "")) >= 10
                    and sum(ch.isdigit() for ch in match.group("rest")) >= 8
                ):
                    # IBAN-shaped but invalid (a misprinted company IBAN): nothing inside it
                    # is read as anything else either.
                    blocked.append((match.start(), match.end()))

    def _hetus(self, text: str, lang: str | None) -> Iterable[_Candidate]:
        for match in _HETU.finditer(text):
            value = match.group()
            if not v.is_fi_hetu(value):
                continue
            ctx = _Context(before=cues_before(text[max(0, match.start() - 80) : match.start()]))
            strong = ctx.strong
            if strong is Cue.TRANSACTION:
                continue
            score = 0.97 if strong in (Cue.HETU, Cue.NATIONAL_ID, Cue.PNR) else 0.85
            if value[6] in "-+" and strong not in (Cue.HETU, Cue.NATIONAL_ID):
                # All-digit form: a Swedish or Danish number may look the same.
                score = 0.7 if lang in (None, "fi") else 0.55
            yield _Candidate(T.FI_HETU, match.start(), match.end(), score, value.upper())

    # -- digit runs ----------------------------------------------------------------------------

    def _numbers(
        self,
        text: str,
        lang: str | None,
        regions: tuple[str, ...],
        blocked: list[tuple[int, int]],
    ) -> list[_Candidate]:
        found: list[_Candidate] = []
        chains = list(_CHAIN.finditer(text))
        for index, chain in enumerate(chains):
            start, end = chain.start(), chain.end()
            if blocked and any(start < e and s < end for s, e in blocked):
                continue
            prefix = chain.group("prefix") or ""
            num_start = start + len(prefix)
            after_char = text[end : end + 1]
            glued = after_char.isalpha()
            groups = [(m.start(), m.group()) for m in _DIGITS.finditer(text, num_start, end)]
            if len(groups) > 1 and sum(len(g) for _, g in groups) > 40:
                groups = groups[:12]
            address = self._address(text, chain, groups, found)
            if address is not None:
                found.append(address)
            if _AMOUNT_AFTER.match(text, end) or _AMOUNT_BEFORE.search(text[max(0, start - 5) : start]):
                continue
            if glued and not prefix:
                # "CC329121224DK", "180638-138P": part of a code, not a number of ours.
                continue
            before_text = text[max(0, start - 90) : start]
            ctx = _Context(
                before=cues_before(before_text),
                after=cues_after(_SENTENCE_END.split(text[end : end + 60], maxsplit=1)[0]),
                before_text=before_text,
            )
            found.extend(self._read_chain(text, groups, prefix, start, ctx, lang, regions))
            # "clearing 1234, 1234567": a bank code and an account separated by a comma.
            if (
                index + 1 < len(chains)
                and len(groups) == 1
                and 4 <= len(groups[0][1]) <= 5
                and text[end : end + 2] == ", "
                and chains[index + 1].start() == end + 2
            ):
                nxt = chains[index + 1]
                digits2 = "".join(_DIGITS.findall(nxt.group()))
                if 6 <= len(digits2) <= 10 and ctx.strong in (Cue.BANK, Cue.MONEY, Cue.BANK_CODE):
                    found.append(
                        _Candidate(T.BANK_ACCOUNT, start, nxt.end(), 0.9, groups[0][1] + digits2)
                    )
        return found

    def _read_chain(
        self,
        text: str,
        groups: list[tuple[int, str]],
        prefix: str,
        start: int,
        ctx: _Context,
        lang: str | None,
        regions: tuple[str, ...],
    ) -> list[_Candidate]:
        """Read a digit run left to right, taking the longest sub-run that is a value.

        Most runs are one value ("+45 40 52 37 46"); a run can also hold two ("CPR
        0101901234 12345678" after a line break).  Context words reach only the sub-runs
        at the edges of the run: a keyword before the run belongs to its first value.
        """
        out: list[_Candidate] = []
        count = len(groups)
        number_start = start + len(prefix)
        lead = "+" if "+" in text[number_start : groups[0][0]] else ""
        seps = [
            text[groups[k][0] + len(groups[k][1]) : groups[k + 1][0]] for k in range(count - 1)
        ]
        lens = [len(g) for _, g in groups]
        i = 0
        while i < count:
            found: _Candidate | None = None
            top = min(count, i + 8) - 1
            for j in range(top, i - 1, -1):
                digits = "".join(g for _, g in groups[i : j + 1])
                if len(digits) > 19 or len(digits) < 4:
                    continue
                if i == 0:
                    sub_ctx = ctx if j == count - 1 else _Context(ctx.before, [], ctx.before_text)
                else:
                    sub_ctx = _EMPTY_CONTEXT
                sub_seps = seps[i:j]
                sub_lens = lens[i : j + 1]
                sub_lead = lead if i == 0 else ""
                if sub_lead and "(" in sub_seps[0:2].__str__() and "0" in digits[:5]:
                    # "+49 (0)30 1234567": the bracketed trunk zero is not dialled.
                    digits, sub_lens, sub_seps = _drop_trunk_zero(digits, sub_lens, sub_seps)
                cand = self._classify(
                    digits, sub_lens, sub_seps, sub_lead, prefix if i == 0 else "", sub_ctx,
                    lang, regions,
                )
                if cand is None:
                    continue
                kind, score, normalized = cand
                s = groups[i][0]
                if i == 0:
                    if kind is T.CUSTOMER_NUMBER and prefix:
                        s = start
                    elif kind is T.PHONE_NUMBER:
                        s = number_start
                e = groups[j][0] + len(groups[j][1])
                if kind is T.PHONE_NUMBER and text[e : e + 1] == ")" and "(" in text[s:e]:
                    e += 1
                found = _Candidate(kind, s, e, score, normalized)
                i = j + 1
                break
            if found is None:
                i += 1
            else:
                out.append(found)
        return out

    def _classify(
        self,
        digits: str,
        lens: list[int],
        seps: list[str],
        lead: str,
        prefix: str,
        ctx: _Context,
        lang: str | None,
        regions: tuple[str, ...],
    ) -> tuple[EntityType, float, str] | None:
        n = len(digits)
        if n < 4:
            return None
        stripped = [s.strip(" \u00a0\u202f\t") for s in seps]
        kinds = {s for s in stripped}
        newline = any("\n" in s for s in seps)
        if newline:
            kinds = {s.strip() for s in stripped}
        if len(lens) == 3 and kinds <= {".", "/", "-"} and len(kinds) == 1:
            if v.is_date([digits[: lens[0]], digits[lens[0] : lens[0] + lens[1]], digits[-lens[2] :]]):
                return None
        strong = ctx.strong
        if prefix:
            if strong in (Cue.CUSTOMER, Cue.ACCOUNT) and n >= 4:
                return T.CUSTOMER_NUMBER, 0.9, prefix.rstrip("-").upper() + digits
            return None
        if strong is Cue.TRANSACTION or (strong is None and ctx.after_cue(Cue.TRANSACTION)):
            return None
        if strong is Cue.CUSTOMER:
            return T.CUSTOMER_NUMBER, 0.92, digits
        if strong is Cue.ACCOUNT:
            if _SORT_CODE.search(ctx.before_text):
                return T.BANK_ACCOUNT, 0.92, digits
            return T.CUSTOMER_NUMBER, 0.9, digits

        feasible = self._feasible(digits, lens, stripped, kinds, lead, lang, regions)
        if strong is Cue.BANK and 5 <= n <= 11 and len(lens) == 1:
            if not any(kind is T.BANK_ACCOUNT for kind, _, _ in feasible):
                # "Kto. 123456789", "Kontonr.: 50743005": a domestic account after its keyword.
                return T.BANK_ACCOUNT, 0.88, digits
        if not feasible:
            return None
        if strong is not None and strong in _CUE_TYPES:
            wanted = _CUE_TYPES[strong]
            matches = [(kind, base) for kind, base, _ in feasible if kind in wanted]
            if matches:
                preferred = _ID_BY_LANG.get(lang or "")
                kind, base = max(
                    matches, key=lambda m: (m[0] is preferred, wanted.index(m[0]) * -1, m[1])
                )
                if strong in (Cue.PNR, Cue.NATIONAL_ID) and len(matches) > 1:
                    kind, base = max(matches, key=lambda m: (m[0] is preferred, m[1]))
                normalized = next(norm for k, _, norm in feasible if k is kind)
                return kind, 0.95, normalized
            if strong in _BLOCKING_CUES:
                return None
        elif strong in _BLOCKING_CUES:
            if strong is Cue.BANK_CODE:
                combined = [f for f in feasible if f[0] is T.BANK_ACCOUNT and len(lens) > 1]
                if combined:
                    return combined[0][0], 0.85, combined[0][2]
            return None
        company = strong is Cue.COMPANY_PHONE or (
            not ctx.weak and strong is None and ctx.after_cue(Cue.COMPANY_PHONE, within=1)
        )
        best: tuple[EntityType, float, str] | None = None
        for kind, base, normalized in feasible:
            score = base
            if kind is T.PHONE_NUMBER:
                if company:
                    continue
                if ctx.weak:
                    score += 0.3
            elif kind in _ID_TYPES and _ID_BY_LANG.get(lang or "") is kind:
                score += 0.1
            if best is None or score > best[1]:
                best = (kind, score, normalized)
        if best is None or best[1] < REPORT_THRESHOLD:
            return None
        return best

    def _feasible(
        self,
        digits: str,
        lens: list[int],
        stripped: list[str],
        kinds: set[str],
        lead: str,
        lang: str | None,
        regions: tuple[str, ...],
    ) -> list[tuple[EntityType, float, str]]:
        """Every type the digits can be, with a base score from the form alone."""
        n = len(digits)
        out: list[tuple[EntityType, float, str]] = []
        compact = len(lens) == 1
        spaced = kinds <= {"", "-"}
        # Payment cards: 13-19 digits, compact or in fours.
        if 13 <= n <= 19 and (compact or (spaced and all(x == 4 for x in lens[:-1]))):
            if v.is_payment_card(digits):
                out.append((T.PAYMENT_CARD, 0.8, digits))
        if n == 10 and (compact or (lens == [6, 4] and kinds <= {"-", "", "+"})):
            if v.is_dk_cpr(digits):
                base = 0.45 if compact else 0.55
                if v.dk_cpr_mod11(digits):
                    base += 0.1
                out.append((T.DK_CPR, base, digits))
            if v.is_se_personnummer(digits):
                out.append((T.SE_PERSONNUMMER, 0.45 if compact else 0.6, digits))
            if lens == [6, 4] and kinds <= {"-", "+"} and v.is_fi_hetu(
                digits[:6] + stripped[0] + digits[6:]
            ):
                out.append((T.FI_HETU, 0.55, digits[:6] + stripped[0] + digits[6:]))
        if n == 12 and (compact or (lens == [8, 4] and kinds <= {"-", ""})):
            if v.is_se_personnummer(digits):
                out.append((T.SE_PERSONNUMMER, 0.65, digits[2:]))
        if n == 11:
            if (compact or (lens == [6, 5] and kinds <= {""})) and v.is_no_fodselsnummer(digits):
                out.append((T.NO_FODSELSNUMMER, 0.55, digits))
            if (compact or (lens == [2, 3, 3, 3] and kinds <= {""})) and v.is_de_tax_id(digits):
                out.append((T.DE_TAX_ID, 0.45 if compact else 0.6, digits))
            if (compact or (lens == [4, 2, 5] and kinds <= {"", "."})) and v.is_no_bank_account(
                digits
            ):
                out.append((T.BANK_ACCOUNT, 0.35 if compact else 0.8, digits))
        # Domestic bank accounts written with their bank code.
        if lens == [2, 2, 2, 8] and stripped == ["-", "-", ""]:
            out.append((T.BANK_ACCOUNT, 0.8, digits))
        if len(lens) == 2 and lens[0] == 4 and 6 <= lens[1] <= 10 and kinds <= {"-", ""}:
            out.append((T.BANK_ACCOUNT, 0.6 if stripped == ["-"] and lens[1] == 10 else 0.4, digits))
        if len(lens) == 2 and lens[0] == 5 and digits[0] == "8" and 6 <= lens[1] <= 10:
            out.append((T.BANK_ACCOUNT, 0.4, digits))
        # Phone numbers.
        international = bool(lead) or digits.startswith("00")
        phone_digits = digits[2:] if digits.startswith("00") and not lead else digits
        if 6 <= len(phone_digits) <= 15 and ("." not in kinds or len(lens) >= 4):
            region = v.phone_region(phone_digits, international, regions)
            if region is not None:
                if international:
                    base = 0.85
                elif digits[0] == "0" and n >= 9:
                    base = 0.65
                elif region == "US" and not compact:
                    base = 0.65
                else:
                    base = 0.45
                normalized = v.phone_e164(phone_digits, international, region)
                out.append((T.PHONE_NUMBER, base, normalized))
        return out

    # -- postal addresses ------------------------------------------------------------------

    def _address(
        self,
        text: str,
        chain: re.Match[str],
        groups: list[tuple[int, str]],
        found: list[_Candidate],
    ) -> _Candidate | None:
        if chain.group("prefix") or chain.group("lead") or len(groups[0][1]) > 5:
            return None
        number_start = groups[0][0]
        if found and found[-1].type is T.POSTAL_ADDRESS and found[-1].end > number_start:
            return None
        street_start = self._street_start(text, number_start)
        if street_start is not None:
            if len(groups[0][1]) > 4:
                return None
            tail = _ADDRESS_TAIL.match(text, number_start)
            if tail is None:
                return None
            end = tail.end()
        else:
            english = _EN_ADDRESS.match(text, number_start)
            if english is None:
                return None
            street_start = number_start
            end = english.end()
            flat = _EN_FLAT.search(text[max(0, number_start - 20) : number_start])
            if flat is not None:
                street_start = number_start - (len(text[max(0, number_start - 20) : number_start]) - flat.start())
        ctx = cues_before(text[max(0, street_start - 60) : street_start], limit=6)
        cue = next((hit.cue for hit in ctx if hit.cue not in (Cue.NUMBER, Cue.PERSONAL)), None)
        score = 0.9 if cue is Cue.ADDRESS else 0.75
        raw = text[street_start:end]
        return _Candidate(T.POSTAL_ADDRESS, street_start, end, score, " ".join(raw.casefold().split()))

    def _street_start(self, text: str, number_start: int) -> int | None:
        """Where the street name before a house number starts, or None if there is none."""
        if number_start < 3 or text[number_start - 1] != " ":
            return None
        word_start = _word_start(text, number_start - 1)
        word = text[word_start : number_start - 1]
        if len(word) < 3 or not word[0].isalpha():
            return None
        lower = word.lower()
        if lower in _STREET_WORDS:
            # "Thorvald Meyers gate 30", "Berliner Straße 5": the name is the words before.
            first = None
            position = word_start
            for _ in range(3):
                if position < 2 or text[position - 1] != " ":
                    break
                previous = _word_start(text, position - 1)
                if previous == position - 1 or not text[previous].isupper():
                    break
                first = position = previous
            return first
        if word[0].isupper() and lower.endswith(_STREET_SUFFIXES):
            if any(len(lower) > len(s) + 1 and lower.endswith(s) for s in _STREET_SUFFIXES):
                return word_start
        return None


def _word_start(text: str, end: int) -> int:
    """Start of the word (letters, dots, dashes, apostrophes) that ends at ``end``."""
    start = end
    low = max(0, end - 40)
    while start > low and (text[start - 1].isalpha() or text[start - 1] in ".-'\u2019"):
        start -= 1
    return start


_EMPTY_CONTEXT = _Context()


def _drop_trunk_zero(
    digits: str, lens: list[int], seps: list[str]
) -> tuple[str, list[int], list[str]]:
    """Remove a ``(0)`` group written after a country code."""
    offset = 0
    for k, length in enumerate(lens):
        if k > 0 and length == 1 and seps[k - 1].endswith("(") and digits[offset] == "0":
            if k < len(seps) and seps[k].startswith(")"):
                return (
                    digits[:offset] + digits[offset + 1 :],
                    lens[:k] + lens[k + 1 :],
                    seps[: k - 1] + [seps[k - 1] + "0" + seps[k]] + seps[k + 1 :],
                )
        offset += length
    return digits, lens, seps


def _normal(raw: str) -> str:
    """Canonical form of a custom-pattern match: upper case, no spaces or dashes."""
    return "".join(ch for ch in raw.upper() if ch.isalnum())
