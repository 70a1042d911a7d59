"""Context words in da, de, fi, sv, nb and en, and how they are looked up around a value.

A value's meaning comes from the words right before it ("kundenr. 12345678" is a customer
number, "tlf. 12345678" a phone number, "ordre nr. 12345678" nothing personal) and, less
often, right after it ("... 12345678 fra gavekortet").  Words are matched as lower-cased
letter-only tokens, so "Kd.-Nr.", "kd nr" and "KD-NR" are the same phrase.  An entry ending
in ``*`` matches any word that starts with it ("kundenummer*" also matches "kundenummeret",
"kundenummeren", "kundenummerets"), which covers the inflected forms of all six languages.
"""

from __future__ import annotations

import bisect
import enum
import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple


class Cue(enum.IntEnum):
    """What a context word says about the value next to it."""

    CUSTOMER = enum.auto()  # customer, contract, policy, membership number
    ACCOUNT = enum.auto()  # "account number": a bank account next to a sort code, else a customer
    PHONE = enum.auto()  # tlf, Handy, puh, call me ...
    COMPANY_PHONE = enum.auto()  # a number the writer dialled, or the company's "call us"
    NUMBER = enum.auto()  # nummer, numero, number: weak, says "some number follows"
    PERSONAL = enum.auto()  # me, mig, mich, minut: weak phone cue ("ring til mig på")
    YOURS = enum.auto()  # dit, dein, your: an agent speaking of the customer's value
    CPR = enum.auto()
    HETU = enum.auto()
    SE_PNR = enum.auto()
    NO_FNR = enum.auto()
    PNR = enum.auto()  # personnummer: Danish, Swedish or Norwegian by language
    NATIONAL_ID = enum.auto()  # any national identity number
    TAX_ID = enum.auto()
    IBAN = enum.auto()
    BANK = enum.auto()  # konto, Kontonummer, bank details
    MONEY = enum.auto()  # refund/pay-in wording: an account or IBAN follows
    BANK_CODE = enum.auto()  # reg.nr., clearing, BLZ, sort code: the code itself is not labelled
    CARD = enum.auto()
    ADDRESS = enum.auto()
    TRANSACTION = enum.auto()  # order, invoice, tracking, case, reference, gift card: not personal


#: Cues that only hint ("some number follows", "call") and let the search go on for a
#: stronger word: "du erreichst uns telefonisch unter ..." is the company's number.
WEAK_CUES = frozenset({Cue.NUMBER, Cue.PERSONAL, Cue.YOURS, Cue.PHONE})

#: The context words, per cue and language.  Entries are separated by commas; an entry of
#: several words is a phrase; ``*`` at the end matches any ending (inflections, compounds
#: starting with the word), ``*`` in front any beginning (compounds ending in the word,
#: the head of a Nordic or German compound: "*konto" is "lønkonto", "Girokonto").  All
#: lists apply to every comment (customers switch language mid-sentence); the grouping is
#: for native-speaker review.
_WORDS: dict[Cue, dict[str, str]] = {
    Cue.CUSTOMER: {
        "da": """kundenummer*, kundenr*, kunde nr, kunde nummer, abonnementsnummer*,
            abonnementsnr, abonnements nr, aftalenummer*, aftalenr, aftale nr, policenummer*,
            policenr, police nr, medlemsnummer*, medlemsnr, medlems nr, kontraktnummer*,
            forsikringsnummer*, forsikringsnr""",
        "de": """kundennummer*, kundennr*, kunden nr, kd nr, kdnr, kd, vertragsnummer*,
            vertragsnr*, vertrags nr, vsnr, versicherungsnummer*, versicherungsscheinnummer*,
            versicherungs nr, versichertennummer*, versicherungsschein*, mitgliedsnummer*,
            mitgliedsnr, mitglieds nr, policennummer*, vertragskonto*, kundenkonto*,
            kundenreferenz*""",
        "fi": """asiakasnumero*, asiakasnro, as nro, asiakastunnus*, asiakkuusnumero*,
            sopimusnumero*, sopimusnro, sopimukse*, vakuutusnumero*, vakuutusnro,
            vakuutukse*, jäsennumero*, jäsennro""",
        "sv": """kundnummer*, kundnumret, kundnr, kund nr, avtalsnummer*, avtalsnumret,
            avtalsnr, avtals nr, försäkringsnummer*, försäkringsnumret, försäkringsnr,
            försäkrings nr, abonnemangsnummer*, abonnemangsnumret, medlemsnummer*,
            medlemsnumret""",
        "nb": """kundenummer*, kundenr, kundeid, avtalenummer*, avtalenr, avtale nr,
            polisenummer*, polisenr, polise nr""",
        "en": """customer number, customer no, customer nr, customer id, customer ref,
            cust no, cust nr, customer account number, policy number, policy no,
            membership number, membership no, member number, member no, contract number,
            contract no, subscriber number, subscription number, client number""",
    },
    Cue.ACCOUNT: {
        "en": """account number, account no, account nr, acct no, acct nr, acct, acc no,
            acc nr, account, ac, ac no""",
    },
    Cue.PHONE: {
        "da": """tlf, tlf*, tlf nr, telefon*, telefonnr, mobil*, mobilnr, sms*, ring,
            ringe, ring mig, ringe mig, ringe til mig, fange mig, kontakt mig, træffes, nummeret,
            abonnementet""",
        "de": """tel, tel nr, handy*, rufnummer*, rückruf*, rückrufnummer*, erreichbar,
            festnetz*, anrufen, zurückrufen, mobilfunk*, anschluss*""",
        "fi": """puh, puhelin*, puhelinnumero*, puhelinnro, numeroni, soittakaa, soita, soittaa,
            takaisinsoitto*, gsm, kännykkä*, matkapuhelin*, tekstiviest*, tekstari*,
            liittymä*, liittymän, tavoitatte, tavoittaa""",
        "sv": """nås, ring tillbaka, ringa, ringa mig, abonnemanget, numret, telefonnummret,
            mobilnumret""",
        "nb": """ring meg, ringe, ring tilbake, abonnementet, mobilnummeret""",
        "en": """phone*, telephone, mobile, cell, call me, call back, text me, reach me,
            reachable, my number, whatsapp, contact me, sms'en""",
    },
    Cue.COMPANY_PHONE: {
        "da": "ringede, ringede til, ringer, ringet, os, vi, vores, hotline, kundeservice*",
        "de": "uns, wir, unser*, angerufen, anrief, wählte, gewählt, kundenservice*",
        "fi": """soitin, soitettuani, soittanut, meidät, meille, meidän,
            asiakaspalvelu*""",
        "sv": "ringde, oss, vi, vår, vårt, våra, kundtjänst*",
        "nb": "ringte, ringt",
        "en": """us, we, our, rang, rung, called, dialled, dialed, you ring, when you ring,
            customer service""",
    },
    Cue.NUMBER: {
        "da": "nummer, nummer*, nummeret, nr",
        "de": "nummer, nummern, nr",
        "fi": "numero, numeron, numeroon, numerosta, nro",
        "sv": "numret",
        "en": "number, no, num",
    },
    Cue.PERSONAL: {
        # The writer, or the customer an agent answers: "ring til mig", "wir rufen dich an".
        "da": "mig, kontakt, dig",
        "de": "mich, mir, kontaktieren, kontaktdaten, dich, dir",
        "fi": "minut, minulle, minua, yhteystiedot, yhteystietoni, sinua, sinulle",
        "sv": "mej, kontakta",
        "nb": "meg, deg",
        "en": "me, contact, kontaktinfo",
    },
    Cue.YOURS: {
        # An agent about the customer's own value: "dit nye nummer", "deine Nummer".
        "da": "din, dit",
        "de": "dein, deine, deinen, deiner",
        "fi": "sinun",
        "sv": "ditt, din",
        "nb": "ditt, din",
        "en": "your",
    },
    Cue.CPR: {
        "da": "cpr, cpr*, cprnr, cpr nr, cpr nummer, personnummer dk",
        "en": "danish cpr, dansk cpr, danish personal",
    },
    Cue.HETU: {
        "fi": """hetu, hetu*, henkilötunnus*, henkilötunnuks*, henkilötunnukse*, sotu*,
            henkilötunnusta""",
        "sv": "personbeteckning*",
        "en": """personal identity code, identity code, finnish id, finnish personal,
            finnish hetu, suomalainen henkilötunnus""",
    },
    Cue.SE_PNR: {
        "sv": "personnumret, personnumr*, samordningsnummer*",
        "en": """swedish personal, swedish id, personnumber, swedish personnummer,
            svensk personnummer, svenskt personnummer""",
    },
    Cue.NO_FNR: {
        "nb": "fødselsnummer*, fødselsnr, fnr, f nr, d nummer, fodselsnummer*, personnummeret",
        "en": """norwegian national, norwegian id, norwegian fødselsnummer, norsk fødselsnummer,
            norwegian personal""",
    },
    Cue.PNR: {
        "da": "personnummer, personnr, person nr",
        "sv": "pnr",
    },
    Cue.NATIONAL_ID: {
        "da": "id nummer, id nr",
        "sv": "identitetsnummer*",
        "nb": "personnummeret mitt",
        "en": """national id, national identity, id number, identity number,
            personal number, personal id, social security, ssn,
            personal identification number""",
    },
    Cue.TAX_ID: {
        "de": """steuer id, steuerid*, steuer idnr, steueridentifikationsnummer*,
            identifikationsnummer*, idnr, steuer identifikationsnummer, steuernummer*""",
        "en": "tax id, tax identification, german tax id, german steuerid, tin",
    },
    Cue.IBAN: {
        "en": "iban, iban*, iban format",
    },
    Cue.BANK: {
        "da": """konto, konto*, *konto, *kontoen, kontonr, kontonummer*, *kontonummer, kontoen,
            kontooplysninger*, bankoplysninger*""",
        "de": "kto, kto nr, ktonr, kontonr, *konto, bankverbindung*, bankkonto*, kontonummer*",
        "fi": "tilinumero*, tilinro, tili, tilille, tilin, tililtä, tilini, tilinumeroni",
        "sv": "kontouppgift*, bankuppgifter*, *kontot, kontonummer*, kontonr",
        "nb": "kontoopplysning*, bankdetaljer*, *kontoen, kontonummer*, kontonr",
        "en": "bank details, bank account, bank, bankens, banken",
    },
    Cue.MONEY: {
        "da": """refusion*, pengene, overføres, overføre, overfør, indbetal*, indsæt*, sætte,
            sæt, udbetal*, betalingsservice, sende dem til, sende dem, send dem, sende det""",
        "de": """erstattung*, rückerstattung*, überweis*, lastschrift*, lastschriftmandat*,
            einzug*, abbuch*, auszahl*, gutschrift*""",
        "fi": "rahat, hyvitys*, hyvittää, palauttaa, palautus*, maksakaa, tilisiirto*",
        "sv": """återbetalning*, pengarna, insättning*, sätt, betalas, autogiro*, utbetal*,
            tillbaka, skicka dem till, skicka dem, skicka pengarna""",
        "nb": """refusjon*, tilbakebetaling*, sett, betales, avtalegiro*, tilbake,
            sende dem til, sende dem, send dem, sende pengene""",
        "en": """refund*, direct debit, payout, repay*, reimburs*, paid into, pay into,
            send the money, send it to, send them to, transfer it to, money back""",
    },
    Cue.BANK_CODE: {
        "da": "reg, reg nr, regnr, registreringsnummer*",
        "de": "blz, bankleitzahl*",
        "sv": "clearing*, clearingnummer*",
        "en": "sort code, sortcode, sorting code, sort, sc, routing number",
    },
    Cue.CARD: {
        "da": """kort, kortet, kortnummer*, kortnr, kortets, kreditkort*, betalingskort*,
            dankort, visakort*, betalt med""",
        "de": "karte, kreditkarte*, kartennummer*, bankkarte*, debitkarte*, bezahlt",
        "fi": "kortin, kortti*, kortilta*, kortista, kortiltani, luottokort*, pankkikort*, maksoin",
        "sv": "kortnummret, betalade med",
        "nb": "kartenummer*, betalte med",
        "en": """card, card number, credit card, debit card, card no, cards, visa, mastercard,
            paid with""",
    },
    Cue.ADDRESS: {
        "da": "adresse*, bor, sendes, postadresse*",
        "de": "anschrift*, lieferadresse*, wohne, wohnhaft, geschickt",
        "fi": """osoite*, osoitteessa, osoitteeseen, osoitteeni, toimitusosoite*, asun,
            toimittaa, toimitetaan""",
        "sv": "adress*, leveransadress*, skickas",
        "nb": "leveringsadresse*, sendet",
        "en": "address*, live, lives, living",
    },
    Cue.TRANSACTION: {
        "da": """ordre*, ordrenummer*, ordrenr, faktura*, fakturanr, fakturanummer*,
            sporingsnummer*, sporing*, forsendelse*, sag, sagen, sagsnummer*, sagsnr,
            reference*, referencen, referencenummer*, gavekort*, rykker, billet*, booking*,
            bookingnummer*, kvittering*, kolli*, pakkenummer*, pakke, pakken, pakker,
            reservation*, retour*, rabat*, kampagnekode*""",
        "de": """bestellnummer*, bestellnr, bestell nr, bestellung*, bestellt, auftrag*,
            auftragsnummer*, auftrags nr, sendung*, sendungsnummer*, sendungs nr, rechnung*,
            rechnungsnummer*, rechnungsnr, rechnungs nr, ticket*, aktenzeichen*, az,
            vorgang*, vorgangsnummer*, referenz*, gutschein*, gutscheincode*, buchung*,
            buchungsnummer*, schadennummer*, schadensnummer*, fallnummer*, paket*,
            lieferschein*, störung*, rabatt*""",
        "fi": """tilaus*, tilausnumero*, tilausnro, seurantakoodi*, seurantanumero*,
            seuranta*, lähetys*, lähetystunnus*, lasku*, laskun, laskunumero*, tiketti*,
            viite*, viitteenä, viitenumero*, lahjakortti*, lahjakortin, vahinkonumero*,
            asianumero*, tapausnumero*, paketti*, paketin, varaus*, varausnumero*, kuitti*,
            kuponki*, alennuskoodi*, palvelupyyn*, tukipyyn*""",
        "sv": """order*, ordernummer*, ordernr, fakturanummer*, sändning*, spårningsnummer*,
            spårning*, ärende*, referens*, presentkort*, bokning*, bokningsnummer*, paketet,
            ocr, kvitto*, fraktsedel*, försändelse*""",
        "nb": """saken, saksnummer*, referanse*, bestilling*, bestillingsnummer*, kid,
            kidnummer*, sending*, sendingsnummer*, kupong*""",
        "en": """invoice*, tracking*, parcel, shipment*, case, case number, ticket,
            reference*, ref, gift, gift card, gift card number, gift card no, voucher*,
            booking, confirmation, claim, claim number, incident, receipt, transaction*,
            serial, model, consignment*, waybill, promo*""",
    },
}

_TOKEN = re.compile(r"[^\W\d_]+|\d+")


class CueHit(NamedTuple):
    """A context word found near a value: which cue, and how many words away."""

    cue: Cue
    distance: int


#: Compound heads ("*konto": "lønkonto", "Girokonto", "lönekonto"), longest first.
_HEADS: list[tuple[str, Cue]] = []


def _compile(
    words: dict[Cue, dict[str, str]],
) -> tuple[dict[tuple[str, ...], Cue], dict[str, list[tuple[str, Cue]]]]:
    """Exact phrases (as word tuples) and stems (by their first three letters)."""
    exact: dict[tuple[str, ...], Cue] = {}
    stems: dict[str, list[tuple[str, Cue]]] = {}
    for cue, by_language in words.items():
        for entries in by_language.values():
            for entry in entries.split(","):
                phrase = " ".join(entry.split()).lower()
                tokens = tuple(_TOKEN.findall(phrase.rstrip("*")))
                if not tokens:
                    continue
                if phrase.startswith("*") and len(tokens) == 1:
                    _HEADS.append((tokens[0], cue))
                elif phrase.endswith("*") and len(tokens) == 1:
                    stems.setdefault(tokens[0][:3], []).append((tokens[0], cue))
                else:
                    exact.setdefault(tokens, cue)
    for same_start in stems.values():
        same_start.sort(key=lambda entry: -len(entry[0]))  # longest stem wins
    _HEADS.sort(key=lambda entry: -len(entry[0]))
    return exact, stems


_EXACT, _STEMS = _compile(_WORDS)
_SINGLE = {key[0]: cue for key, cue in _EXACT.items() if len(key) == 1}
#: Last two words of each multi-word phrase -> the phrases ending with them, longest first.
_PHRASE_ENDS: dict[tuple[str, str], list[tuple[tuple[str, ...], Cue]]] = {}
for _key, _cue in sorted(_EXACT.items(), key=lambda item: -len(item[0])):
    if len(_key) > 1:
        _PHRASE_ENDS.setdefault((_key[-2], _key[-1]), []).append((_key, _cue))


_PUNCTUATION = ".,:;!?()[]{}\"'«»„“”‘’*#/<>|=~^…–—-+&%§"


def _words(pieces: Iterable[str]) -> list[str]:
    """Tokens of whitespace-separated pieces: most pieces are a plain word already."""
    out: list[str] = []
    for piece in pieces:
        piece = piece.strip(_PUNCTUATION)
        if piece.isalpha() or piece.isdigit():
            out.append(piece)
        elif piece:
            out.extend(_TOKEN.findall(piece))
    return out


def last_words(text: str, count: int) -> list[str]:
    """Tokens of the last ``count`` whitespace-separated pieces of ``text``."""
    pieces = text.lower().rsplit(None, count)
    if len(pieces) > count:
        del pieces[0]
    return _words(pieces)


def first_words(text: str, count: int) -> list[str]:
    """Tokens of the first ``count`` pieces of ``text``, up to the end of its sentence."""
    pieces = text.lower().split(" ", count)[:count]
    for index, piece in enumerate(pieces):
        cut = piece.find("\n")
        if cut >= 0:
            del pieces[index + 1 :]
            pieces[index] = piece[:cut]
            break
        if (piece.endswith((".", "!", "?")) and index > 0) or piece in (".", "!", "?"):
            del pieces[index + 1 :]
            break
    return _words(pieces)


_UNSEEN = object()
#: Word -> its one-word cue (exact or by stem); filled on first sight, bounded.
_WORD_CUES: dict[str, Cue | None] = {}
_WORD_CUES_MAX = 100_000


def cue_of_word(word: str) -> Cue | None:
    """The cue of one lower-cased word on its own, if it is a context word."""
    cue = _WORD_CUES.get(word, _UNSEEN)
    if cue is not _UNSEEN:
        return cue  # type: ignore[return-value]
    found = _SINGLE.get(word)
    if found is None:
        for stem, stem_cue in _STEMS.get(word[:3], ()):
            if word.startswith(stem):
                found = stem_cue
                break
    if found is None and len(word) >= 7:
        for head, head_cue in _HEADS:
            # A compound ends in its head: "lønkonto" is a konto, "Kreditkarte" a Karte.
            if word.endswith(head) and len(word) - len(head) >= 3:
                found = head_cue
                break
    if len(_WORD_CUES) >= _WORD_CUES_MAX:
        _WORD_CUES.clear()
    _WORD_CUES[word] = found
    return found


def _cue_at(words: Sequence[str], end: int) -> tuple[Cue, int] | None:
    """The cue whose phrase ends at ``words[end]`` (longest phrase wins) and its length."""
    word = words[end]
    phrases = _PHRASE_ENDS.get((words[end - 1], word)) if end > 0 else None
    if phrases is not None:
        for key, cue in phrases:
            length = len(key)
            if length == 2 or (
                length <= end + 1 and tuple(words[end - length + 1 : end + 1]) == key
            ):
                return cue, length
    single = cue_of_word(word)
    return None if single is None else (single, 1)


def cues_before(text: str, limit: int = 8) -> list[CueHit]:
    """Cues in the words that end ``text``, nearest first.

    The walk stops at the first digit run: a keyword followed by another number belongs to
    that number ("kundenr. 123 tlf. 456": "kundenr." is not about 456).  It also stops after
    the first cue that is not weak.  Most keywords sit right before their value, so the
    last few words are read first and the rest only when needed.
    """
    hits, complete = _walk_back(last_words(text, _FIRST_LOOK), limit)
    if complete or text.count(" ") < _FIRST_LOOK:
        return hits
    return _walk_back(last_words(text, limit + 2), limit)[0]


_FIRST_LOOK = 4


def _walk_back(words: list[str], limit: int) -> tuple[list[CueHit], bool]:
    """The cues walking back over ``words``; True if the walk ended on its own."""
    hits: list[CueHit] = []
    index = len(words) - 1
    distance = 0
    while index >= 0 and distance < limit:
        word = words[index]
        if word[0].isdigit():
            return hits, True
        found = _cue_at(words, index)
        if found is None:
            index -= 1
        else:
            cue, length = found
            hits.append(CueHit(cue, distance))
            if cue not in WEAK_CUES:
                return hits, True
            index -= length
        distance += 1
    return hits, distance >= limit


def cues_after(text: str, limit: int = 4) -> list[CueHit]:
    """Cues in the first words of ``text`` (up to the next digit run), nearest first."""
    words = first_words(text, limit + 1)
    hits: list[CueHit] = []
    for index, word in enumerate(words[:limit]):
        if word[0].isdigit():
            break
        found = _cue_at(words[: index + 1], index)
        # A phrase starting here ("customer number") is matched on its last word.
        if found is None and index + 1 < len(words):
            found = _cue_at(words[: index + 2], index + 1)
        if found is not None:
            hits.append(CueHit(found[0], index))
    return hits


# ---------------------------------------------------------------------------------------
# The context index: one tokenisation per text, queried per value.


#: Tokens of a text: an e-mail or web address (one opaque token: "live" in "anna@live.se"
#: is no address word), a word, a digit group, or a possible break (line break, ``!``,
#: ``?``, a full stop before white space).
def _emoji_class() -> str:
    """Emoji and pictographs, except those that point at or stand for a contact detail
    (☎ 📞 📱 📲 ✉ 📧 👉 👇 ➡ ⬇): between spaces, an emoji ends a clause as a full stop does."""
    keep = {0x260E, 0x1F4DE, 0x1F4F1, 0x1F4F2, 0x2709, 0x1F4E7, 0x1F449, 0x1F447, 0x27A1}
    ranges = [(0x2600, 0x27BF), (0x1F300, 0x1FAFF)]
    parts: list[str] = []
    for low, high in ranges:
        start = low
        for point in [*sorted(k for k in keep if low <= k <= high), high + 1]:
            if start <= point - 1:
                parts.append(f"{chr(start)}-{chr(point - 1)}")
            start = point + 1
    return "[" + "".join(parts) + "]"


#: Tokens of a text: an e-mail or web address (one opaque token: "live" in "anna@live.se"
#: is no address word), a word, a digit group, or a possible break (line break, ``!``,
#: ``?``, a full stop before white space, an emoji between spaces).
_INDEX_TOKEN = re.compile(rf"[^\W\d_]+|\d+|\n|[!?]+|\.(?=\s|$)|(?<=\s){_emoji_class()}(?=\s|$)")
#: E-mail and web addresses: one opaque token each (looked for only when the text has
#: an "@", "://" or "www.").
_OPAQUE_SPAN = re.compile(r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: Abbreviations end in these (a full stop after them is no sentence end): "Kontonr.",
#: "fødselsnr.", "puh.nro", "acct no."; so do short keywords ("tlf.", "Kto.", "puh.").
_ABBREVIATION_ENDS = ("nr", "nro", "no")


_NEXT_WORD = re.compile(r"[\s\-\u2013:>=\u2600-\u27bf\U0001f300-\U0001faff\ufe0f]*([^\W_]+|[+(])")


def _value_or_keyword_follows(lower: str, position: int) -> bool:
    """Whether a number, a keyword or a linking word follows ``position`` ("tlf. 1234",
    "Kd. Nr.", "kundenr. er 1234")."""
    match = _NEXT_WORD.match(lower, position)
    if match is None:
        return False
    word = match.group(1)
    return not word.isalpha() or word in _LINKING or cue_of_word(word) is Cue.NUMBER


def _sentence_starts(text: str, lower: str, position: int) -> bool:
    """Whether a capitalised word that is no keyword follows ``position`` ("kundennr.
    Rechnungsnummer ...": a new sentence; "medlemsnr. hos jer er ...": the same one)."""
    match = _NEXT_WORD.match(lower, position)
    if match is None:
        return False
    word = match.group(1)
    return (
        word.isalpha()
        and text[match.start(1)].isupper()
        and word not in _LINKING
        and cue_of_word(word) is None
    )


def _abbreviation(word: str) -> bool:
    """Whether a full stop after ``word`` marks an abbreviation rather than a sentence end."""
    return word.endswith(_ABBREVIATION_ENDS) or (len(word) <= 4 and cue_of_word(word) is not None)


#: What follows a digit group that makes it (part of) an amount, a percentage, a count of
#: something: "12 995:25", "349,75", "1.299,-", "23,5 %", "15 kr", "47 min".
_AMOUNT_TAIL = re.compile(
    r"(?:[.,:]\d{1,2}(?!\d)|,-)|\s?(?:%|€|\$|£|kr\b|kr\.|e\b|eur\b|euro|sek\b|nok\b|dkk\b|"
    r"gbp\b|usd\b|mbit|gbit|min\b|minut|stunden|tuntia|timer\b|kpl\b|stk\b|mb\b|gb\b)",
    re.IGNORECASE,
)
_AMOUNT_HEAD = re.compile(r"(?:€|\$|£|\bkr\.?|\beur|\bsek|\bnok|\bdkk|\bgbp|\busd)\s?$", re.I)

_WORD, _NUM, _BREAK, _OPAQUE, _AMOUNT = 0, 1, 2, 3, 4
#: Joined forms of tokens written with a hyphen, dot or slash between them:
#: "asiakas-nro" -> "asiakasnro", "KtoNr." -> "ktonr", "a/c" -> "ac".
_JOINERS = frozenset("-./")


class ContextIndex:
    """The tokens of one text with their positions, built once, queried per value.

    Queries walk nearest-first from a value, backwards or forwards, and stop at a line
    break, a sentence end, an e-mail or web address, or another number (amounts are
    passed over: "tilbage mina 12 995:25, här: 6137-..."): a keyword on the other side of
    any of them is about something else.  A keyword that touches a number of its own
    belongs to that number, not to a value further away.
    """

    __slots__ = ("_ends", "_kinds", "_starts", "_words", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        lower = text.lower()
        starts: list[int] = []
        ends: list[int] = []
        words: list[str] = []
        kinds: list[int] = []
        opaque: list[tuple[int, int]] = []
        if "@" in lower or "://" in lower or "www." in lower:
            opaque = [m.span() for m in _OPAQUE_SPAN.finditer(lower)]
        next_opaque = opaque[0] if opaque else None
        opaque_at = 0
        position = 0
        find = lower.find
        # findall and find (both in C) instead of a match object per token: the gaps
        # between tokens hold no letters or digits, so each token is found where it matched.
        for token in _INDEX_TOKEN.findall(lower):
            start = find(token, position)
            end = position = start + len(token)
            while next_opaque is not None and start >= next_opaque[1]:
                opaque_at += 1
                next_opaque = opaque[opaque_at] if opaque_at < len(opaque) else None
            if next_opaque is not None and start >= next_opaque[0]:
                # Inside an e-mail or web address: the address is one token.
                if not kinds or kinds[-1] != _OPAQUE or ends[-1] != next_opaque[1]:
                    starts.append(next_opaque[0])
                    ends.append(next_opaque[1])
                    words.append("@")
                    kinds.append(_OPAQUE)
                continue
            first = token[0]
            if first.isalpha():
                if (
                    kinds
                    and kinds[-1] == _WORD
                    and ends[-1] == start - 1
                    and lower[start - 1] in _JOINERS
                ):
                    # "asiakas-nro", "kd.nr": the joined word, in place of its halves.
                    joined = words[-1] + token
                    if cue_of_word(joined) is not None:
                        words[-1] = joined
                        ends[-1] = end
                        continue
                code = _WORD
            elif first.isdigit():
                code = _AMOUNT if _is_amount(lower, start, end) else _NUM
            else:
                if token == "\n":
                    # A label on its own line ("Kontonummer:\n1234...") still reaches.
                    if lower[max(0, start - 8) : start].rstrip(" \t\r").endswith(":"):
                        continue
                elif (
                    token == "."
                    and kinds
                    and kinds[-1] == _WORD
                    and (
                        (
                            words[-1].endswith(_ABBREVIATION_ENDS)
                            and not _sentence_starts(text, lower, end)
                        )
                        or (_abbreviation(words[-1]) and _value_or_keyword_follows(lower, end))
                    )
                ):
                    continue  # "tlf. 1234", "Kontonr. 1234", "Kd. Nr. 12": no sentence end
                code = _BREAK
            starts.append(start)
            ends.append(end)
            words.append(token)
            kinds.append(code)
        for i in range(len(kinds) - 2, -1, -1):
            # "12 995:25", "1.299,-": the groups before an amount's last group are its own.
            if (
                kinds[i] == _NUM
                and kinds[i + 1] == _AMOUNT
                and lower[ends[i] : starts[i + 1]] in (" ", ".", "\u00a0")
            ):
                kinds[i] = _AMOUNT
        self._starts = starts
        self._ends = ends
        self._words = words
        self._kinds = kinds

    def before(self, position: int, limit: int = 8) -> list[CueHit]:
        """Cues in the words before ``position``, nearest first, up to the first strong one."""
        index = bisect.bisect_right(self._ends, position) - 1
        kinds = self._kinds
        hits: list[CueHit] = []
        distance = 0
        while index >= 0 and distance < limit:
            kind = kinds[index]
            if kind == _AMOUNT:
                index -= 1
                continue
            if kind != _WORD:
                break
            found = self._cue_ending_at(index)
            if found is None:
                index -= 1
            else:
                cue, length = found
                if cue not in WEAK_CUES:
                    if not self._trails_number(index - length):
                        hits.append(CueHit(cue, distance))
                    break
                hits.append(CueHit(cue, distance))
                index -= length
            distance += 1
        return hits

    def after(self, position: int, limit: int = 4) -> list[CueHit]:
        """Cues in the words after ``position``, nearest first (up to a break or number).

        A keyword directly followed by a number of its own is that number's and ends the
        search: in "... 5489 7272 5745 9021 cpr 0512813113", "cpr" is not about the card.
        """
        index = bisect.bisect_left(self._starts, position)
        kinds = self._kinds
        words = self._words
        count = len(words)
        hits: list[CueHit] = []
        distance = 0
        first = index
        while index < count and distance < limit:
            if kinds[index] != _WORD:
                break
            if index > first and "," in self.text[self._ends[index - 1] : self._starts[index]]:
                break  # "12345678 er mit tlf, kortet ...": the clause ended
            found = self._cue_starting_at(index)
            if found is None:
                index += 1
            else:
                cue, length = found
                following = index + length
                if cue is Cue.BANK_CODE:
                    break  # "sort code", "BLZ", "clearing" name the number after them
                ahead = following
                other = 0  # one other word may sit between: "laskun nmuero 9912883"
                while ahead < count and kinds[ahead] == _WORD:
                    if "," in self.text[self._ends[ahead - 1] : self._starts[ahead]]:
                        break  # "danish cpr, seit 3 Wochen": the keyword's clause ended
                    ahead_cue = cue_of_word(words[ahead])
                    if not (words[ahead] in _LINKING or ahead_cue is Cue.NUMBER):
                        other += 1
                        if other > 1 or ahead_cue is not None:
                            break  # another keyword: the number after it is its own
                    ahead += 1
                if (
                    ahead < count
                    and "," not in self.text[self._ends[ahead - 1] : self._starts[ahead]]
                    and (
                        kinds[ahead] == _NUM or (kinds[ahead] == _AMOUNT and cue is Cue.TRANSACTION)
                    )
                ):
                    break  # "kundenummer 1234", "order number 1234", "lasku oli 59,90 e"
                if self._labels_later_number(following):
                    break  # "... Die Steuer-ID von meinem Mann: 17598340685"
                hits.append(CueHit(cue, distance))
                if cue not in WEAK_CUES:
                    break  # nearest first: a keyword further on is about something else
                index = following
            distance += 1
        return hits

    def _trails_number(self, index: int) -> bool:
        """Whether the keyword ending before ``index + 1`` is an earlier number's label:
        "10000000 is my account, order number 55120934" ("account" is the first number's)."""
        kinds = self._kinds
        words = self._words
        verb = False
        for back in range(index, max(-1, index - 4), -1):
            kind = kinds[back]
            if kind == _NUM:
                return verb  # "1234 is my account" (not "1234, account", "1234 Mitt kundnummer")
            if kind != _WORD or words[back] not in _TRAILING:
                return False
            verb = verb or words[back] in _VERBS
        return False

    def _labels_later_number(self, index: int) -> bool:
        """Whether a number after a colon follows within a few words of ``index``."""
        kinds = self._kinds
        for ahead in range(index, min(index + 5, len(kinds))):
            kind = kinds[ahead]
            if kind == _NUM:
                return self.text[: self._starts[ahead]].rstrip().endswith(":")
            if kind != _WORD:
                return False
        return False

    def _cue_ending_at(self, index: int) -> tuple[Cue, int] | None:
        words = self._words
        kinds = self._kinds
        word = words[index]
        if index > 0 and kinds[index - 1] == _WORD:
            phrases = _PHRASE_ENDS.get((words[index - 1], word))
            if phrases is not None:
                for key, cue in phrases:
                    length = len(key)
                    if length == 2 or (
                        length <= index + 1
                        and tuple(words[index - length + 1 : index + 1]) == key
                        and all(k == _WORD for k in kinds[index - length + 1 : index + 1])
                    ):
                        return cue, length
        single = cue_of_word(word)
        return None if single is None else (single, 1)

    def _cue_starting_at(self, index: int) -> tuple[Cue, int] | None:
        words = self._words
        kinds = self._kinds
        phrases = _PHRASE_STARTS.get(words[index])
        if phrases is not None:
            for key, cue in phrases:
                length = len(key)
                stop = index + length
                if (
                    stop <= len(words)
                    and tuple(words[index:stop]) == key
                    and all(k == _WORD for k in kinds[index:stop])
                ):
                    return cue, length
        single = cue_of_word(words[index])
        return None if single is None else (single, 1)


#: Words between a number and the keyword after it: "1234 er mit nye kundenummer".
_TRAILING = frozenset(
    [
        "er",
        "is",
        "ist",
        "on",
        "är",
        "var",
        "was",
        "mit",
        "min",
        "mitt",
        "mine",
        "my",
        "mein",
        "meine",
        "meiner",
        "minun",
        "uusi",
        "nye",
        "nya",
        "new",
        "neue",
        "neuer",
        "nytt",
        "ny",
        "dit",
        "din",
        "ditt",
        "your",
        "dein",
        "deine",
    ]
)

_VERBS = frozenset(["er", "is", "ist", "on", "är", "var", "was"])

#: Words between a keyword and its number: "kundenummer er 1234", "Steuer-ID ist ...".
_LINKING = frozenset(["er", "is", "ist", "on", "är", "lautet", "was", "var", "oli", "nr", "no"])

#: First word of each multi-word phrase -> the phrases starting with it, longest first.
_PHRASE_STARTS: dict[str, list[tuple[tuple[str, ...], Cue]]] = {}
for _key, _cue in sorted(_EXACT.items(), key=lambda item: -len(item[0])):
    if len(_key) > 1:
        _PHRASE_STARTS.setdefault(_key[0], []).append((_key, _cue))


#: First characters of what can follow an amount's digits (cheap test before the pattern).
_AMOUNT_TAIL_START = frozenset(".,:%€$£ \u00a0kKeEsSnNdDgGuUmM")
_AMOUNT_UNIT_START = frozenset("%€$£kKeEsSnNdDgGuUmMtT")
_AMOUNT_HEAD_END = frozenset(" .€$£rRkK\u00a0")
_SPACES = frozenset(" \u00a0")
#: Last characters of the currencies _AMOUNT_HEAD knows ("kr.", "eur", "sek", "gbp", "usd").
_UNIT_LAST = frozenset("€$£.rkpd")


def _is_amount(lower: str, start: int, end: int) -> bool:
    """Whether the digit group at ``start:end`` is part of an amount or a measure."""
    following = lower[end : end + 1]
    if (
        following in _AMOUNT_TAIL_START
        and following
        and (following not in " \u00a0" or lower[end + 1 : end + 2] in _AMOUNT_UNIT_START)
        and _AMOUNT_TAIL.match(lower, end) is not None
    ):
        return True
    if start < 2:
        return False
    previous = lower[start - 1]
    if previous in (",", ":") and lower[start - 2].isdigit() and end - start <= 2:
        return True  # the decimals of "349,75", "995:25"
    if previous not in _AMOUNT_HEAD_END:
        return False
    if previous in _SPACES and lower[start - 2] not in _UNIT_LAST:
        return False  # "ordre 1234": no currency before the space
    return _AMOUNT_HEAD.search(lower, max(0, start - 5), start) is not None
