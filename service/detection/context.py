"""Context words in da, de, fi, sv, nb and en, and how they are looked up around a value.

A value's meaning comes from the words right before it ("kundenr. 12345678" is a customer
number, "tlf. 12345678" a phone number, "ordre nr. 12345678" nothing personal) and, less
often, right after it ("... 12345678 fra gavekortet").  Words are matched as lower-cased
letter-only tokens, so "Kd.-Nr.", "kd nr" and "KD-NR" are the same phrase.  An entry ending
in ``*`` matches any word that starts with it ("kundenummer*" also matches "kundenummeret",
"kundenummeren", "kundenummerets"), which covers the inflected forms of all six languages.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class Cue(enum.IntEnum):
    """What a context word says about the value next to it."""

    CUSTOMER = enum.auto()  # customer, contract, policy, membership number
    ACCOUNT = enum.auto()  # "account number": a bank account next to a sort code, else a customer
    PHONE = enum.auto()  # tlf, Handy, puh, call me ...
    COMPANY_PHONE = enum.auto()  # a number the writer dialled, or the company's "call us"
    NUMBER = enum.auto()  # nummer, numero, number: weak, says "some number follows"
    PERSONAL = enum.auto()  # me, mig, mich, minut: weak phone cue ("ring til mig på")
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


#: Cues that only hint ("some number follows") and let the search go on for a stronger word.
WEAK_CUES = frozenset({Cue.NUMBER, Cue.PERSONAL})

_WORDS: dict[Cue, str] = {
    Cue.CUSTOMER: """
        kundenummer* kundenr kunde nr kunde nummer kundenr* abonnementsnummer* abonnementsnr
        aftalenummer* aftalenr policenummer* policenr medlemsnummer* medlemsnr
        kontraktnummer* forsikringsnummer* forsikringsnr
        kundennummer* kundennr* kunden nr kd nr kdnr kd vertragsnummer* vertragsnr* vsnr
        versicherungsnummer* versicherungsscheinnummer* mitgliedsnummer* mitgliedsnr
        policennummer* vertragskonto* kundenkonto* vertrags nr mitglieds nr versicherungs nr
        police nr aftale nr abonnements nr medlems nr avtals nr försäkrings nr avtale nr
        polise nr versichertennummer* kundenreferenz*
        asiakasnumero* asiakasnro as nro asiakastunnus* sopimusnumero* sopimusnro
        vakuutusnumero* vakuutusnro jäsennumero* jäsennro asiakkuusnumero*
        kundnummer* kundnr kund nr avtalsnummer* avtalsnr försäkringsnummer* försäkringsnr
        abonnemangsnummer* medlemsnummer*
        avtalenummer* avtalenr polisenummer* polisenr kundeid
        customer number customer no customer nr customer id customer ref cust no cust nr
        customer account number policy number policy no membership number membership no
        member number member no contract number contract no subscriber number
        subscription number client number
    """,
    Cue.ACCOUNT: """
        account number account no account nr acct no acct nr acct acc no acc nr
        account
    """,
    Cue.PHONE: """
        tlf tlf* telefon* tel mobil* mobilnr mobilnummer* sms* ring ring mig ringe mig
        ringe til mig fange mig kontakt mig telefonnummer* nummeret abonnementet
        handy* rufnummer* rückruf* erreichbar festnetz* anrufen mobilfunk* anschluss*
        puh puhelin* puhelinnumero* numeroni soittakaa soita takaisinsoitto*
        gsm kännykkä* matkapuhelin* tekstiviest* liittymä* liittymän tavoitatte tavoittaa
        nås ring tillbaka ringa mig abonnemanget numret
        ring meg ring tilbake abonnementet mobilnummeret
        phone* telephone mobile cell call me call back text me reach me reachable
        my number telefonnr tlf nr tel nr træffes whatsapp contact me sms'en tekstari*
        zurückrufen rückrufnummer* puhelinnro telefonnummret mobilnumret
    """,
    Cue.COMPANY_PHONE: """
        ringede ringer ringet ringte ringt ringde ringede til
        os oss uns meidät meille us
        angerufen anrief wählte gewählt
        soitin soitettuani soittaa soittanut
        rang rung called dialled dialed you ring when you ring hotline kundeservice*
        kundenservice* asiakaspalvelu* kundtjänst* customer service
    """,
    Cue.NUMBER: """
        nummer nummeret nummern numret nr no nro numero numeron numeroon numerosta number num
        nummer*
    """,
    Cue.PERSONAL: """
        mig meg mich mir me minut minulle minua mej
    """,
    Cue.CPR: """
        cpr cpr* cprnr cpr nr cpr nummer danish cpr personnummer dk
    """,
    Cue.HETU: """
        hetu hetu* henkilötunnus* henkilötunnuks* henkilötunnukse* sotu* henkilötunnusta
        personal identity code identity code finnish id finnish personal personbeteckning*
    """,
    Cue.SE_PNR: """
        personnumret personnumr* samordningsnummer* swedish personal swedish id
        personnumber
    """,
    Cue.NO_FNR: """
        fødselsnummer* fødselsnr fnr f nr d nummer fodselsnummer* norwegian national
        norwegian id personnummeret
    """,
    Cue.PNR: """
        personnummer personnr person nr pnr
    """,
    Cue.NATIONAL_ID: """
        national id national identity id number identity number personal number
        personal id id nummer id nr identitetsnummer* social security ssn
        personal identification number personnummeret mitt
    """,
    Cue.TAX_ID: """
        steuer id steuerid* steuer idnr steueridentifikationsnummer* identifikationsnummer*
        idnr steuer identifikationsnummer steuernummer* tax id tax identification
        german tax id tin
    """,
    Cue.IBAN: """
        iban iban* iban format
    """,
    Cue.BANK: """
        konto konto* kontonr kontonummer* kontoen kontooplysninger* kontouppgift*
        kontoopplysning* kto kto nr bankverbindung* bankkonto* bank details bank account
        bankoplysninger* bankuppgifter* bankdetaljer* tilinumero* tilinro tili tilille tilin
        tililtä tilini tilinumeroni bank bankens banken
    """,
    Cue.MONEY: """
        refusion* refusjon* tilbakebetaling* återbetalning* pengene pengarna rahat hyvitys*
        erstattung* rückerstattung* refund* overføres overføre overfør indbetal* indsæt*
        sætte sæt sett insättning* sätt betalas betales überweis* lastschrift* lastschriftmandat*
        direct debit autogiro* avtalegiro* betalingsservice einzug* abbuch* palauttaa
        palautus* maksakaa tilbake tillbaka udbetal* utbetal* auszahl* gutschrift* hyvittää
        tilisiirto* payout repay* reimburs* paid into pay into
    """,
    Cue.BANK_CODE: """
        reg reg nr regnr registreringsnummer* clearing* clearingnummer* sort code sortcode
        sorting code blz bankleitzahl* routing number
    """,
    Cue.CARD: """
        kort kortet kortnummer* kortnr kortets kreditkort* betalingskort* dankort visakort*
        kortin kortti* kortilta* kortista kortiltani luottokort* pankkikort*
        kortnummret
        karte kreditkarte* kartennummer* kartenummer* bankkarte* debitkarte* visa mastercard
        card card number credit card debit card card no cards
        betalt med betalade med bezahlt betalte med paid with maksoin
    """,
    Cue.ADDRESS: """
        adresse* adress* address* anschrift* leveringsadresse* leveransadress* lieferadresse*
        wohne wohnhaft bor osoite* osoitteessa osoitteeseen osoitteeni toimitusosoite* asun
        live lives living postadresse* sendes skickas sendet geschickt toimittaa toimitetaan
    """,
    Cue.TRANSACTION: """
        ordre* ordrenummer* ordrenr faktura* fakturanr fakturanummer* sporingsnummer* sporing*
        forsendelse* sag sagen sagsnummer* sagsnr reference* referencen referencenummer*
        gavekort* rykker billet* booking* bookingnummer* kvittering* kolli* pakkenummer*
        pakke pakken pakker
        bestellnummer* bestellnr bestellung* bestellt auftrag* auftragsnummer* sendung*
        sendungsnummer* rechnung* rechnungsnummer* rechnungsnr ticket* aktenzeichen* vorgang*
        vorgangsnummer* referenz* gutschein* buchung* buchungsnummer* schadennummer*
        schadensnummer* fallnummer* tracking* paket* lieferschein* az
        tilaus* tilausnumero* tilausnro seurantakoodi* seurantanumero* lähetys* lähetystunnus*
        lasku* laskun laskunumero* tiketti* viite* viitteenä viitenumero* lahjakortti*
        lahjakortin vahinkonumero* asianumero* tapausnumero* paketti* paketin varaus*
        varausnumero* kuitti*
        order* ordernummer* ordernr fakturanummer* sändning* spårningsnummer* spårning*
        ärende* referens* presentkort* bokning* bokningsnummer* paketet
        saken saksnummer* referanse* bestilling* bestillingsnummer*
        invoice* tracking parcel shipment* case case number ticket reference* ref gift
        gift card voucher* booking confirmation claim claim number incident receipt
        transaction* serial model störung* seuranta* ocr kid kidnummer* ordrenr
        sendungs nr bestell nr rechnungs nr auftrags nr
    """,
}

_TOKEN = re.compile(r"[^\W\d_]+|\d+")


@dataclass(frozen=True, slots=True)
class CueHit:
    """A context word found near a value: which cue, and how many words away."""

    cue: Cue
    distance: int


def _compile(
    words: dict[Cue, str],
) -> tuple[dict[tuple[str, ...], Cue], dict[str, list[tuple[str, Cue]]]]:
    exact: dict[tuple[str, ...], Cue] = {}
    stems: dict[str, list[tuple[str, Cue]]] = {}
    for cue, text in words.items():
        for line in text.strip().splitlines():
            for phrase in _split_phrases(line):
                tokens = tuple(_TOKEN.findall(phrase.rstrip("*").lower()))
                if not tokens:
                    continue
                if phrase.endswith("*") and len(tokens) == 1:
                    stem = tokens[0]
                    stems.setdefault(stem[:3], []).append((stem, cue))
                else:
                    exact.setdefault(tokens, cue)
    for entries in stems.values():
        entries.sort(key=lambda entry: -len(entry[0]))
    return exact, stems


def _split_phrases(line: str) -> Iterable[str]:
    """Split a line of the word lists into phrases.

    Single words are separated by spaces; a multi-word phrase is listed by writing it with
    the known phrase heads (see ``_PHRASES``).  Keeping the lists as plain text keeps them
    easy to review by native speakers.
    """
    words = line.split()
    i = 0
    while i < len(words):
        for length in (3, 2):
            candidate = " ".join(words[i : i + length])
            if candidate.rstrip("*").lower() in _PHRASES:
                yield candidate
                i += length
                break
        else:
            yield words[i]
            i += 1


_PHRASES = frozenset(
    """
    kunde nr|kunde nummer|kunden nr|kd nr|as nro|kund nr|customer number|customer no|
    customer nr|customer id|customer ref|cust no|cust nr|customer account number|
    policy number|policy no|membership number|membership no|member number|member no|
    contract number|contract no|subscriber number|subscription number|client number|
    account number|account no|account nr|acct no|acct nr|acc no|acc nr|ring mig|ringe mig|
    ringe til mig|fange mig|kontakt mig|ring tillbaka|ringa mig|ring meg|ring tilbake|
    call me|call back|text me|reach me|my number|ringede til|you ring|
    when you ring|customer service|cpr nr|cpr nummer|danish cpr|personnummer dk|
    personal identity code|identity code|finnish id|finnish personal|swedish personal|
    swedish id|f nr|d nummer|norwegian national|norwegian id|person nr|national id|
    national identity|id number|identity number|personal number|personal id|id nummer|
    id nr|social security|personal identification number|personnummeret mitt|steuer id|
    steuer idnr|steuer identifikationsnummer|tax id|tax identification|german tax id|
    iban format|kto nr|bank details|bank account|direct debit|reg nr|sort code|
    sorting code|routing number|card number|credit card|debit card|card no|betalt med|
    betalade med|betalte med|paid with|gift card|case number|claim number|tlf nr|tel nr|
    contact me|vertrags nr|mitglieds nr|versicherungs nr|police nr|aftale nr|abonnements nr|
    medlems nr|avtals nr|försäkrings nr|avtale nr|polise nr|paid into|pay into|sendungs nr|
    bestell nr|rechnungs nr|auftrags nr
    """.replace("\n", "").split("|")
)
_PHRASES = frozenset(p.strip() for p in _PHRASES)

_EXACT, _STEMS = _compile(_WORDS)
_SINGLE = {key[0]: cue for key, cue in _EXACT.items() if len(key) == 1}
#: Last word of each multi-word phrase -> the phrases ending with it, longest first.
_PHRASE_ENDS: dict[str, list[tuple[tuple[str, ...], Cue]]] = {}
for _key, _cue in sorted(_EXACT.items(), key=lambda item: -len(item[0])):
    if len(_key) > 1:
        _PHRASE_ENDS.setdefault(_key[-1], []).append((_key, _cue))


_PUNCTUATION = ".,:;!?()[]{}\"'«»„“”‘’*#/<>|=~^…–—-+&%§"


def tokens(text: str) -> list[str]:
    """Lower-cased words and digit runs of ``text``, in order."""
    return _TOKEN.findall(text.lower())


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


_NO_CUE = (None, 0)
#: Word -> its one-word cue (exact or by stem); filled on first sight, bounded.
_WORD_CUES: dict[str, Cue | None] = {}
_WORD_CUES_MAX = 100_000


def _word_cue(word: str) -> Cue | None:
    cue = _WORD_CUES.get(word, _NO_CUE)
    if cue is not _NO_CUE:
        return cue  # type: ignore[return-value]
    found = _SINGLE.get(word)
    if found is None:
        for stem, stem_cue in _STEMS.get(word[:3], ()):
            if word.startswith(stem):
                found = stem_cue
                break
    if len(_WORD_CUES) >= _WORD_CUES_MAX:
        _WORD_CUES.clear()
    _WORD_CUES[word] = found
    return found


def _cue_at(words: Sequence[str], end: int) -> tuple[Cue, int] | None:
    """The cue whose phrase ends at ``words[end]`` (longest phrase wins) and its length."""
    word = words[end]
    phrases = _PHRASE_ENDS.get(word)
    if phrases is not None:
        for key, cue in phrases:
            length = len(key)
            if length <= end + 1 and tuple(words[end - length + 1 : end + 1]) == key:
                return cue, length
    single = _word_cue(word)
    return None if single is None else (single, 1)


def cues_before(text: str, limit: int = 8) -> list[CueHit]:
    """Cues in the words that end ``text``, nearest first.

    The walk stops at the first digit run: a keyword followed by another number belongs to
    that number ("kundenr. 123 tlf. 456": "kundenr." is not about 456).  It also stops after
    the first cue that is not weak.
    """
    words = last_words(text, limit + 2)
    hits: list[CueHit] = []
    index = len(words) - 1
    distance = 0
    while index >= 0 and distance < limit:
        word = words[index]
        if word[0].isdigit():
            break
        found = _cue_at(words, index)
        if found is None:
            index -= 1
        else:
            cue, length = found
            hits.append(CueHit(cue, distance))
            if cue not in WEAK_CUES:
                break
            index -= length
        distance += 1
    return hits


def cues_after(text: str, limit: int = 3) -> list[CueHit]:
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
