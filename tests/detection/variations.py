"""The variation generator: valid values of every type, written the ways people write them.

Each strategy draws a *comment* and what must be found in it: a valid value (checksums,
dates, numbering plans, postal formats) rendered with the separators and groupings people
use, a keyword in one of its forms (inflected, abbreviated, hyphenated, in a compound),
before or after the value, at the start or end of the comment or on the next line, with
emoji, typos, amounts, dates and transaction numbers around it.  The surroundings are
hard negatives: the value is the only thing the engine may find.

Nothing here is taken from the evaluation corpora: the vocabulary is each language's own
(keywords as banks, telecoms and authorities use them), the values follow the published
rules (python-stdnum, phonenumbers, the postal services' address formats).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import phonenumbers
from hypothesis import assume
from hypothesis import strategies as st
from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.de import idnr
from stdnum.dk import cpr
from stdnum.fi import hetu
from stdnum.iso7064 import mod_11_10
from stdnum.no import fodselsnummer, kontonr
from stdnum.se import personnummer

from service.detection import EntityType as T

LANGS = ("da", "de", "fi", "sv", "nb", "en")
COUNTRY = {"da": "DK", "de": "DE", "fi": "FI", "sv": "SE", "nb": "NO", "en": "GB"}
_DATES = st.dates(min_value=datetime.date(1935, 1, 1), max_value=datetime.date(2009, 12, 31))


@dataclass(frozen=True)
class Comment:
    """A generated comment and the one value in it that must be found."""

    lang: str
    text: str
    kind: T
    start: int
    end: int

    @property
    def value(self) -> str:
        return self.text[self.start : self.end]


def _digits(count: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=count, max_size=count)


def _pick(options: str) -> st.SearchStrategy[str]:
    """One of ``|``-separated options."""
    return st.sampled_from(options.split("|"))


# --- values ---------------------------------------------------------------------------


@st.composite
def dk_cpr(draw: st.DrawFn) -> str:
    born = draw(_DATES)
    value = born.strftime("%d%m%y") + draw(_digits(4))
    assume(cpr.is_valid(value))
    return value[:6] + draw(_pick("-||-| ")) + value[6:]


@st.composite
def fi_hetu(draw: st.DrawFn) -> str:
    born = draw(_DATES)
    sign = "-" if born.year < 2000 else draw(_pick("A|B|C|D|E|F"))
    individual = f"{draw(st.integers(2, 899)):03d}"
    date = born.strftime("%d%m%y")
    value = date + sign + individual + hetu._calc_checksum(date + individual)
    assume(hetu.is_valid(value))
    return value.lower() if draw(st.integers(0, 4)) == 0 else value


@st.composite
def se_personnummer(draw: st.DrawFn) -> str:
    born = draw(_DATES)
    body = born.strftime("%y%m%d") + draw(_digits(3))
    value = body + luhn.calc_check_digit(body)
    assume(personnummer.is_valid(value))
    century = born.strftime("%Y")[:2]
    form = draw(_pick("short-|long-|long|short"))
    if form == "short-":
        return value[:6] + "-" + value[6:]
    if form == "long-":
        return century + value[:6] + "-" + value[6:]
    if form == "long":
        return century + value
    return value


@st.composite
def no_fodselsnummer(draw: st.DrawFn) -> str:
    born = draw(_DATES)
    body = born.strftime("%d%m%y") + draw(_digits(3))
    first = fodselsnummer.calc_check_digit1(body)
    second = fodselsnummer.calc_check_digit2(body + first)
    value = body + first + second
    assume(len(value) == 11 and fodselsnummer.is_valid(value))
    return value[:6] + " " + value[6:] if draw(st.integers(0, 3)) == 0 else value


@st.composite
def de_tax_id(draw: st.DrawFn) -> str:
    head = draw(st.permutations("0123456789"))
    digits = list(head[:9])
    assume(digits[0] != "0")
    digits.insert(draw(st.integers(1, 9)), digits[draw(st.integers(0, 8))])
    body = "".join(digits[:10])
    value = body + str(mod_11_10.calc_check_digit(body))
    assume(idnr.is_valid(value))
    if draw(st.booleans()):
        return f"{value[:2]} {value[2:5]} {value[5:8]} {value[8:]}"
    return value


_IBAN_BBAN = {"DK": 14, "DE": 18, "FI": 14, "NO": 11, "SE": 20}


@st.composite
def iban(draw: st.DrawFn) -> str:
    country = draw(st.sampled_from([*sorted(_IBAN_BBAN), "GB"]))
    if country == "GB":
        bban = draw(_pick("NWBK|BARC|HBUK|MIDL")) + draw(_digits(14))
    elif country == "SE":
        bban = draw(_pick("500|800|950")) + draw(_digits(17))
    else:
        bban = draw(_digits(_IBAN_BBAN[country]))
    value = country + stdnum_iban.calc_check_digits(country + "00" + bban) + bban
    assume(stdnum_iban.is_valid(value))
    form = draw(_pick("grouped|compact|lower"))
    if form == "grouped":
        return " ".join(value[i : i + 4] for i in range(0, len(value), 4))
    return value.lower() if form == "lower" else value


@st.composite
def payment_card(draw: st.DrawFn) -> str:
    length = draw(st.sampled_from([16, 16, 16, 13]))
    prefix = "4" if length == 13 else draw(_pick("4|51|52|53|54|55|2221|2720"))
    body = prefix + draw(_digits(length - 1 - len(prefix)))
    value = body + luhn.calc_check_digit(body)
    if length == 13:
        groups = [value[:4], value[4:7], value[7:10], value[10:]]
    else:
        groups = [value[i : i + 4] for i in range(0, 16, 4)]
    return draw(st.sampled_from([" ", "-", ""])).join(groups)


@st.composite
def bank_account(draw: st.DrawFn, country: str) -> str:
    """A domestic account number as the country's banks print it."""
    if country == "DK":  # reg.nr. (4) + kontonummer (up to 10)
        reg = draw(st.integers(1000, 9899))
        account = (
            draw(_digits(10)) if draw(st.booleans()) else draw(_digits(draw(st.integers(7, 9))))
        )
        account = str(draw(st.integers(1, 9))) + account[1:]
        split = draw(_pick("-| |-| - |/"))
        if draw(st.integers(0, 3)) == 0 and len(account) == 10:
            account = f"{account[:3]} {account[3:6]} {account[6:]}"
        return f"{reg}{split}{account}"
    if country == "SE":  # clearingnummer (4) + kontonummer (7-10)
        clearing = str(draw(st.integers(1100, 7999)))
        account = str(draw(st.integers(1, 9))) + draw(_digits(draw(st.integers(6, 9))))
        if draw(st.booleans()) and len(account) == 7:
            account = f"{account[:3]} {account[3:5]} {account[5:]}"
        return f"{clearing}{draw(_pick('-|-| '))}{account}"
    if country == "NO":  # 11 digits, mod 11; printed 1234.56.78903
        body = str(draw(st.integers(1000, 9999))) + draw(_digits(6))
        check = kontonr._calc_check_digit(body + "0")
        assume(check != "10")
        value = body + check
        assume(kontonr.is_valid(value))
        form = draw(_pick("dots|spaces|compact"))
        if form == "dots":
            return f"{value[:4]}.{value[4:6]}.{value[6:]}"
        if form == "spaces":
            return f"{value[:4]} {value[4:6]} {value[6:]}"
        return value
    if country == "GB":  # sort code + account number
        sort = "-".join(draw(_digits(2)) for _ in range(3))
        return f"{sort} {draw(st.integers(1, 9))!s}{draw(_digits(7))}"
    # DE: Kontonummer (up to 10 digits), given with its keyword
    return str(draw(st.integers(1, 9))) + draw(_digits(draw(st.integers(6, 9))))


@st.composite
def customer_number(draw: st.DrawFn) -> str:
    digits = str(draw(st.integers(1, 9))) + draw(_digits(draw(st.integers(5, 10))))
    form = draw(st.integers(0, 5))
    if form == 0 and len(digits) == 8:
        return f"{digits[:4]} {digits[4:]}"
    if form == 1 and len(digits) >= 7:
        return f"{digits[:2]}-{digits[2:]}"
    return digits


# Phone numbers: a national number of the country (in its national writing) or any of
# them with the country code.  (country, national prefix choices, digits after the prefix)
_PHONE_PLANS: dict[str, tuple[str, ...]] = {
    "DK": ("2", "30", "31", "40", "42", "50", "51", "60", "61", "93"),
    "NO": ("4", "9", "22", "55", "73"),
    "SE": ("070", "072", "073", "076", "08"),
    "FI": ("040", "041", "044", "045", "050", "09"),
    "DE": ("0151", "0152", "0160", "0170", "0171", "0176", "030", "040", "089", "0221"),
    "GB": ("07700", "07911", "07400", "0161", "020"),
    "US": ("415", "212", "206", "312", "617"),
}
_PHONE_LENGTH = {"DK": 8, "NO": 8, "SE": 10, "FI": 10, "DE": 11, "GB": 11, "US": 10}
_CALLING = {"DK": "45", "NO": "47", "SE": "46", "FI": "358", "DE": "49", "GB": "44", "US": "1"}


def _group(digits: str, sizes: tuple[int, ...], sep: str) -> str:
    out, at = [], 0
    for size in sizes:
        out.append(digits[at : at + size])
        at += size
    if at < len(digits):
        out.append(digits[at:])
    return sep.join(part for part in out if part)


def _national_forms(country: str, national: str) -> list[str]:
    """How people in ``country`` write ``national`` (trunk prefix included)."""
    n = national
    if country in ("DK", "NO"):
        forms = [
            n,
            _group(n, (2, 2, 2, 2), " "),
            _group(n, (4, 4), " "),
            _group(n, (2, 2, 2, 2), "."),
            _group(n, (2, 2, 2, 2), "-"),
        ]
        if country == "NO":
            forms += [_group(n, (3, 2, 3), " "), _group(n, (3, 2, 3), ".")]
        return forms
    if country == "SE":
        area = 2 if n.startswith("08") else 3
        rest = n[area:]
        return [
            n,
            f"{n[:area]}-{_group(rest, (3, 2, 2), ' ')}",
            f"{n[:area]} {_group(rest, (3, 2, 2), ' ')}",
            f"{n[:area]}-{rest}",
        ]
    if country == "FI":
        area = 2 if n.startswith("09") else 3
        rest = n[area:]
        return [
            n,
            f"{n[:area]} {rest}",
            f"{n[:area]}-{rest}",
            f"{n[:area]} {_group(rest, (3, 4), ' ')}",
        ]
    if country == "DE":
        area = 4 if n.startswith("01") else 3 if n[:3] in ("030", "040", "089") else 4
        rest = n[area:]
        return [
            f"{n[:area]} {rest}",
            f"{n[:area]}-{rest}",
            f"{n[:area]}/{rest}",
            f"({n[:area]}) {rest}",
            n,
        ]
    if country == "GB":
        area = 5 if n.startswith("07") or n.startswith("0161") else 3
        if n.startswith("0161"):
            area = 4
        return [n, f"{n[:area]} {n[area:]}", f"{n[:area]} {_group(n[area:], (3, 3), ' ')}"]
    return [
        f"({n[:3]}) {n[3:6]}-{n[6:]}",
        f"{n[:3]}-{n[3:6]}-{n[6:]}",
        f"{n[:3]}.{n[3:6]}.{n[6:]}",
        f"{n[:3]} {n[3:6]} {n[6:]}",
    ]


@st.composite
def phone(draw: st.DrawFn, country: str, international: bool) -> str:
    prefix = draw(st.sampled_from(_PHONE_PLANS[country]))
    national = prefix + draw(_digits(_PHONE_LENGTH[country] - len(prefix)))
    if country == "DE" and prefix.startswith("01"):
        national = prefix + draw(_digits(draw(st.integers(7, 8))))
    region = country
    number = phonenumbers.parse(national, region)
    assume(phonenumbers.is_valid_number(number))
    kind = phonenumbers.number_type(number)
    assume(
        kind
        in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        )
    )
    if not international:
        return draw(st.sampled_from(_national_forms(country, national)))
    code = _CALLING[country]
    significant = national[1:] if national.startswith("0") and country != "US" else national
    written = draw(
        st.sampled_from(
            [
                significant,
                _group(significant, (3, 3, 2, 2, 2), " "),
                _group(significant, (2, 2, 2, 2, 3), " "),
            ]
        )
    )
    lead = draw(st.sampled_from(["+", "+", "00", "(+"]))
    if lead == "(+":
        return f"(+{code}) {written}"
    return f"{lead}{code} {written}"


@st.composite
def email(draw: st.DrawFn) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    local = draw(st.text(letters, min_size=2, max_size=10))
    if draw(st.booleans()):
        local += draw(_pick(".|_|.")) + draw(st.text(letters, min_size=2, max_size=8))
    if draw(st.booleans()):
        local += str(draw(st.integers(1, 99)))
    domain = draw(
        _pick("gmail.com|hotmail.dk|web.de|elisa.fi|telia.se|online.no|live.se|yahoo.co.uk")
    )
    form = draw(st.integers(0, 6))
    if form == 0:
        return f"{local} (at) {domain}"
    if form == 1:
        return f"{local}[at]{domain.replace('.', '[dot]')}"
    return f"{local}@{domain}"


# Addresses, per country: street names of the kinds the postal services list, and the
# order the country writes number, door, postcode and town in.
_STREETS = {
    "DK": "Algade|Kirkevej|Vestergade|Strandvejen|Birkevej|Rosenvænget|Nørrebrogade|Skovvej",
    "DE": "Hauptstraße|Lindenweg|Bahnhofstraße|Gartenweg|Schillerstr.|Am Markt|Mühlenweg",
    "FI": "Hämeenkatu|Rantatie|Koivukuja|Asemakatu|Mannerheimintie|Puistopolku",
    "SE": "Storgatan|Kyrkvägen|Drottninggatan|Parkvägen|Björkvägen|Sveavägen",
    "NO": "Storgata|Kirkeveien|Parkveien|Skolegata|Thorvald Meyers gate|Bygdøy allé",
}
_TOWNS = {
    "DK": "8000 Aarhus C|1620 København V|5000 Odense C|9000 Aalborg|7100 Vejle",
    "DE": "10115 Berlin|60311 Frankfurt am Main|50667 Köln|90402 Nürnberg|24103 Kiel",
    "FI": "00100 Helsinki|33100 Tampere|20100 Turku|65100 Vaasa",
    "SE": "111 22 Stockholm|411 03 Göteborg|211 45 Malmö|753 20 Uppsala",
    "NO": "0150 Oslo|5003 Bergen|7011 Trondheim|9008 Tromsø",
}
_DOORS = {
    "DK": "| 2. tv.| st. th.| 1. th| 3. mf.|, 4. sal| 2 th",
    "DE": "|a|b| a",
    "FI": "| A 12| B 3| as. 4| C 21",
    "SE": "| lgh 1201| B| lgh 1003",
    "NO": "| H0101|B| H0203",
}


@st.composite
def postal_address(draw: st.DrawFn, country: str) -> str:
    if country in ("GB", "US"):
        number = str(draw(st.integers(1, 2999)))
        name = draw(_pick("Church|Station|Victoria|Manor|King|Washington|Pine|Oak|Maple"))
        if country == "GB":
            street = draw(_pick("Road|Street|Lane|Avenue|Close|Drive"))
            town = draw(_pick("Leeds LS1 4AP|Glasgow G12 8QQ|Bristol BS7 8PY|Sheffield S10 2TN"))
            flat = draw(_pick("|Flat 3, |Flat 12, "))
            tail = draw(_pick("|, {t}|\n{t}| {t}")).format(
                t=town.replace(" ", draw(_pick(" |\n")), 1)
            )
            return f"{flat}{number} {name} {street}{tail}"
        street = draw(_pick("St|Ave|Street|Avenue|Rd"))
        apt = draw(_pick("| Apt 14| Apt 3B"))
        town = draw(_pick("Austin, TX 78701|Denver, CO 80203|Seattle, WA 98101"))
        tail = draw(_pick("|, {t}|\n{t}")).format(t=town)
        return f"{number} {name} {street}{apt}{tail}"
    street = draw(_pick(_STREETS[country]))
    number = str(draw(st.integers(1, 199)))
    if draw(st.integers(0, 5)) == 0:
        number = f"{number}-{int(number) + 2}"
    door = draw(_pick(_DOORS[country]))
    town = draw(_pick("|" + _TOWNS[country]))
    sep = draw(_pick(", | |\n|, ")) if town else ""
    return f"{street} {number}{door}{sep}{town}"


# --- keywords and phrasing ----------------------------------------------------------

#: Keyword forms per type and language: inflected, abbreviated, hyphenated, compounds.
KEYWORDS: dict[T, dict[str, str]] = {
    T.PHONE_NUMBER: {
        "da": "tlf.|Tlf|telefon|telefonnummer|mobil|mobilnr.|mit nummer er|ring til mig på|tlf.nr.|mobilnummeret",
        "de": "Tel.|Telefon|Handy|Handynummer|Rufnummer|Mobil|meine Nummer ist|erreichbar unter|Tel.-Nr.",
        "fi": "puh.|puhelin|puhelinnumero|puhelinnumeroni on|gsm|soittakaa numeroon|puh.nro",
        "sv": "tel.|telefon|telefonnummer|mobil|mobilnummer|ring mig på|mitt nummer är|mobilnr",
        "nb": "tlf.|telefon|telefonnummer|mobil|mobilnummer|ring meg på|nummeret mitt er|mobilnr.",
        "en": "phone|phone number|tel.|mobile|call me on|my number is|cell|phone no.",
    },
    T.DK_CPR: {"da": "CPR|cpr-nr.|CPR-nummer|cpr nr|cprnr|CPR-nummeret|cpr.nr.|mit cpr er"},
    T.FI_HETU: {"fi": "hetu|henkilötunnus|henkilötunnukseni|HETU:|sotu|henkilötunnus on"},
    T.SE_PERSONNUMMER: {"sv": "personnummer|personnumret|pnr|person-nr|personnumret är"},
    T.NO_FODSELSNUMMER: {"nb": "fødselsnummer|fødselsnummeret|fnr|f.nr.|fødselsnr.|personnummer"},
    T.DE_TAX_ID: {
        "de": "Steuer-ID|Steuer-IdNr.|Steueridentifikationsnummer|IdNr|Steuer ID|steuerliche Identifikationsnummer"
    },
    T.IBAN: {lang: "IBAN|IBAN:|IBAN-nummer|iban" for lang in LANGS},
    T.PAYMENT_CARD: {
        "da": "kortnummer|kortnr.|kort|kreditkort|betalingskortet|dankort",
        "de": "Kartennummer|Kreditkarte|Karte|Kreditkartennummer|Visa",
        "fi": "kortin numero|kortti|luottokortti|korttinumero",
        "sv": "kortnummer|kortet|kreditkort|bankkort",
        "nb": "kortnummer|kortet|kredittkort|bankkort",
        "en": "card number|card|credit card|Visa|Mastercard|card no.",
    },
    T.CUSTOMER_NUMBER: {
        "da": "kundenummer|kundenr.|kunde-nr.|kundenummeret|Kundenr|abonnementsnummer|aftalenummer|policenummer|medlemsnummer",
        "de": "Kundennummer|Kundennr.|Kd.-Nr.|KdNr|Kunden-Nr.|Vertragsnummer|Vertragsnr.|Versicherungsnummer|Mitgliedsnummer",
        "fi": "asiakasnumero|asiakasnro|asiakas-nro|as.nro|asiakasnumeroni|sopimusnumero|vakuutusnumero|jäsennumero",
        "sv": "kundnummer|kundnr|kund-nr|kundnumret|avtalsnummer|försäkringsnummer|medlemsnummer",
        "nb": "kundenummer|kundenr.|kunde-nr|kundenummeret|avtalenummer|polisenummer",
        "en": "customer number|customer no.|cust no|account number|acct no.|policy number|membership number|contract number",
    },
    T.BANK_ACCOUNT: {
        "da": "konto|kontonr.|kontonummer|lønkonto|min konto|kontonummeret",
        "de": "Kontonummer|Kto.|KtoNr.|Konto|Girokonto|Kto-Nr.",
        "sv": "konto|kontonummer|lönekonto|kontonr|kontot",
        "nb": "kontonummer|konto|kontonr.|lønnskonto|kontoen",
        "en": "account|bank account|acct|account number|a/c",
    },
    T.POSTAL_ADDRESS: {
        "da": "bor på|adresse:|min adresse er|adressen er|send til",
        "de": "wohne in der|Adresse:|Anschrift:|Lieferadresse:|meine Adresse ist",
        "fi": "osoite:|asun osoitteessa|osoitteeni on|toimitusosoite:",
        "sv": "bor på|adress:|min adress är|adressen är",
        "nb": "bor i|adresse:|adressen min er|leveringsadresse:",
        "en": "I live at|address:|my address is|new address:",
    },
    T.EMAIL_ADDRESS: {
        "da": "mail:|e-mail:|skriv til|min mail er",
        "de": "E-Mail:|Mail:|schreibt an|meine E-Mail ist",
        "fi": "sähköposti:|sposti:|s-posti:|meiliin",
        "sv": "mejl:|e-post:|mejla|min mejl är",
        "nb": "e-post:|epost:|mail:|skriv til",
        "en": "email:|e-mail:|email me at|my email is",
    },
}

#: "<value> is my <keyword>": the linking words per language.
_AFTER = {
    "da": "er mit|er min|er mit nye",
    "de": "ist meine|ist mein|ist meine neue",
    "fi": "on minun|on uusi",
    "sv": "är mitt|är min|är mitt nya",
    "nb": "er mitt|er min|er mitt nye",
    "en": "is my|is my new",
}
#: Keywords that read naturally after the value (nouns, not phrases ending in a verb).
_NOUN_ONLY = (" er", " ist", " on", " är", " is", ":", " på", " i", " at", "unter", "numeroon")

_OPENERS = {
    "da": "Hej|Hej Telnet|Undskyld jeg skriver her men|Tredje gang jeg skriver 😡|Godaften.|Hallo??",
    "de": "Hallo|Moin|Guten Tag,|Leute ehrlich?|Zum dritten Mal 😡|Sehr geehrte Damen und Herren,",
    "fi": "Hei|Moi|Terve,|Kolmas kerta kun kirjoitan 😡|No niin.|Haloo??",
    "sv": "Hej|Hallå|Tjena,|Tredje gången jag skriver 😡|God kväll.|Hallå??",
    "nb": "Hei|Heisann|Hallo,|Tredje gang jeg skriver 😡|God kveld.|Hallo??",
    "en": "Hi|Hello|Evening all.|Third time writing 😡|Dear team,|Hello??",
}
#: Sentences full of hard negatives: amounts, dates, times, counts, percentages,
#: transaction numbers with their keyword, the company's hotline, product names.
_NOISE = {
    "da": (
        "Jeg har betalt 299 kr. den 12.03.2025|Regningen var på 1.299,50 kr|ordrenummer 48213377 er stadig ikke leveret"
        "|I ringede kl. 14.30 og lagde på|prisen steg 22 procent|Min Fritzbox 7590 virker ikke"
        "|jeg har ventet 45 min i telefonen|fakturanr. 2024-118832 er betalt|sagsnummer 7712093"
        "|jeg ringede til jer på 70 10 20 30|kortet der ender på 1234 er spærret"
    ),
    "de": (
        "Ich habe 49,95 € am 3.4.2025 bezahlt|Rechnungsnummer 2024-55812 ist bezahlt|Bestellnummer 30012234 fehlt"
        "|um 14:30 Uhr angerufen|23,5 % teurer als letztes Jahr|die Fritzbox 7590 geht nicht"
        "|seit 3 Wochen kein Netz|Sendungsnummer 00340434161094042557 sagt zugestellt|Ticket 6965742 liegt rum"
        "|die Hotline 0800 330 1000 ist dauernd besetzt|Karte **** **** **** 4321 gesperrt"
    ),
    "fi": (
        "lasku oli 59,90 e ja maksoin 12.3.2025|tilausnumero 4471120 ei ole tullut|jonotin 47 min"
        "|hinta nousi 15 %|reititin Huawei B535 ei toimi|laskun numero 9912883 on maksettu"
        "|seurantakoodi JJFI64225100012345678 näyttää toimitetun"
    ),
    "sv": (
        "jag betalade 349:- den 2025-03-12|ordernummer 5512093 har inte kommit|fakturanummer 8841229 är betald"
        "|23,5 % dyrare än förra året|kl. 14.30 ringde jag|väntade 40 min i kö|ärende 4412877 är öppet"
        "|jag ringde 0771-22 11 00 tre gånger"
    ),
    "nb": (
        "jeg betalte 499 kr den 12.03.2025|ordrenummer 7712345 har ikke kommet|fakturanummer 5512877 er betalt"
        "|prisen økte 12 %|ventet 35 min på telefonen|saksnummer 2211334 er åpent|kl. 14.30 ringte jeg"
    ),
    "en": (
        "I paid £35.75 on 22/11/2024|order number 55120934 never arrived|invoice no 8192092 is paid"
        "|waited 45 min on the phone|prices went up 12%|tracking number 1Z999AA10123456784 says delivered"
        "|case 4471120 is still open|at 14:30 you called"
    ),
}
_CLOSERS = {
    "da": "tak|Mvh Anna|På forhånd tak 🙏|Hører fra jer|!!|/Jens",
    "de": "danke|Gruß Jonas|Danke im Voraus 🙏|danke für nix|!!|MfG",
    "fi": "kiitos|t. Aino|Kiitos etukäteen 🙏|hyvää päivänjatkoa 🙃|!!",
    "sv": "tack|Mvh Karin|Tack på förhand 🙏|ha en bra dag 🙃|!!",
    "nb": "takk|Mvh Ola|Takk på forhånd 🙏|ha en fin dag 🙃|!!",
    "en": "thanks|Cheers, Sam|Thanks in advance 🙏|sort it out!!|!!",
}
_EMOJI = ["", "", "", " 😡", " 🙏", " 📞", "🙂", " 👎"]


def _typo(word: str, where: int) -> str:
    """A slip of the keyboard in a filler word: two letters swapped."""
    if len(word) < 4 or not word.isalpha():
        return word
    at = 1 + where % (len(word) - 2)
    return word[:at] + word[at + 1] + word[at] + word[at + 2 :]


@st.composite
def _surrounding(draw: st.DrawFn, lang: str, pool: dict[str, str]) -> str:
    text = draw(_pick(pool[lang]))
    if draw(st.integers(0, 4)) == 0:
        words = text.split(" ")
        at = draw(st.integers(0, len(words) - 1))
        words[at] = _typo(words[at], draw(st.integers(0, 10)))
        text = " ".join(words)
    return text


def _can_follow(keyword: str) -> bool:
    """Whether the keyword reads naturally after the value ("1234 er mit kundenummer")."""
    keyword = keyword.lower()
    return not keyword.endswith(_NOUN_ONLY) and not keyword.startswith(
        (
            "ring",
            "call",
            "soitta",
            "mit ",
            "my ",
            "min ",
            "meine",
            "mitt",
            "skriv",
            "send",
            "bor",
            "wohne",
            "i live",
            "asun",
            "email me",
            "schreibt",
            "mejla",
            "erreichbar",
            "new ",
        )
    )


@st.composite
def comment(draw: st.DrawFn, kind: T, lang: str) -> Comment:
    """A comment in ``lang`` with one value of ``kind`` that must be found, nothing else."""
    country = COUNTRY[lang]
    keyword: str | None = None
    keywords = KEYWORDS.get(kind, {}).get(lang)
    if kind is T.PHONE_NUMBER:
        international = draw(st.integers(0, 3)) == 0
        if lang == "en" and not international:
            country = draw(_pick("GB|US"))
        elif international:
            country = draw(st.sampled_from(sorted(_PHONE_PLANS)))
        value = draw(phone(country, international))
        keyword = draw(_pick(keywords)) if keywords else None
    elif kind is T.POSTAL_ADDRESS:
        if lang == "en":
            country = draw(_pick("GB|US"))
        value = draw(postal_address(country))
        keyword = draw(_pick(keywords)) if keywords and draw(st.booleans()) else None
    elif kind is T.BANK_ACCOUNT:
        assume(keywords is not None)  # Finland writes accounts as IBAN only
        value = draw(bank_account(country))
        keyword = draw(_pick(keywords or ""))
    else:
        strategy = {
            T.DK_CPR: dk_cpr(),
            T.FI_HETU: fi_hetu(),
            T.SE_PERSONNUMMER: se_personnummer(),
            T.NO_FODSELSNUMMER: no_fodselsnummer(),
            T.DE_TAX_ID: de_tax_id(),
            T.IBAN: iban(),
            T.PAYMENT_CARD: payment_card(),
            T.CUSTOMER_NUMBER: customer_number(),
            T.EMAIL_ADDRESS: email(),
        }[kind]
        value = draw(strategy)
        if keywords is None:
            # The national IDs' own languages; in the others an English keyword names them.
            keywords = {
                T.DK_CPR: "Danish CPR|CPR number|CPR",
                T.FI_HETU: "Finnish personal identity code|hetu|henkilötunnus",
                T.SE_PERSONNUMMER: "Swedish personnummer|svenskt personnummer",
                T.NO_FODSELSNUMMER: "Norwegian fødselsnummer|fødselsnummer",
                T.DE_TAX_ID: "German Steuer-ID|Steuer-ID|steuer id",
            }[kind]
        optional = kind in (T.IBAN, T.EMAIL_ADDRESS, T.PAYMENT_CARD)
        if not optional or draw(st.booleans()):
            keyword = draw(_pick(keywords))
    if keyword is not None and draw(st.integers(0, 5)) == 0:
        keyword = keyword.upper() if draw(st.booleans()) else keyword.capitalize()

    # The clause holding the value: keyword before (various joints) or after.
    after = keyword is not None and _can_follow(keyword) and draw(st.integers(0, 3)) == 0
    if keyword is None:
        head, tail = draw(_pick("|her: |hier: |täällä: |här: |here: ")), ""
    elif after:
        link = draw(_pick(_AFTER[lang]))
        head, tail = "", f" {link} {keyword.rstrip(':.').lower()}"
    else:
        joint = draw(_pick(" | |: |:|: \n| - | er | is ")) if not keyword.endswith(":") else " "
        if joint in (" er ", " is ") and (
            keyword.endswith(("er", "on", "is", "är")) or lang not in ("da", "nb", "en")
        ):
            joint = " "
        if joint.startswith(":") and keyword.endswith(_NOUN_ONLY):
            joint = " "
        head, tail = f"{keyword}{joint}", ""
    emoji_before = (
        draw(st.sampled_from(["", "", "", "📞", "👉 "])) if kind is T.PHONE_NUMBER else ""
    )
    emoji_after = draw(st.sampled_from(_EMOJI))
    clause_head = head + emoji_before
    clause_tail = tail + emoji_after

    parts: list[str] = []
    if draw(st.booleans()):
        parts.append(draw(_pick(_OPENERS[lang])))
    if draw(st.booleans()):
        parts.append(draw(_surrounding(lang, _NOISE)) + draw(_pick(".|!|\n|.")))
    prefix = " ".join(parts)
    joiner = draw(_pick(" |\n| |\n\n")) if prefix else ""
    prefix = prefix + joiner if prefix else ""
    start = len(prefix) + len(clause_head)
    end = start + len(value)
    text = prefix + clause_head + value + clause_tail
    ending = draw(st.integers(0, 4))
    if kind is T.POSTAL_ADDRESS and value[-1].isalpha():
        ending = 0  # "1. th.", "Church St.": a full stop would be the abbreviation's own
    if ending == 1:
        text += draw(_pick(". |\n|, | 🙏 ")) + draw(_surrounding(lang, _NOISE))
    elif ending == 2:
        text += draw(_pick(". |\n| ")) + draw(_pick(_CLOSERS[lang]))
    elif ending == 3 and not text.endswith(tuple("0123456789")):
        text += draw(_pick(".|!|?|"))
    return Comment(lang, text, kind, start, end)


#: Comments of hard negatives only: nothing in them may be found.
@st.composite
def negative_comment(draw: st.DrawFn, lang: str) -> str:
    parts = [draw(_pick(_OPENERS[lang]))]
    for _ in range(draw(st.integers(1, 3))):
        parts.append(draw(_surrounding(lang, _NOISE)) + draw(_pick(".|!|\n|. ")))
    parts.append(draw(_pick(_CLOSERS[lang])))
    return " ".join(parts)


TYPES_BY_LANG: list[tuple[T, str]] = [
    (kind, lang) for kind in T for lang in LANGS if not (kind is T.BANK_ACCOUNT and lang == "fi")
]
