"""Hypothesis strategies for valid values of every type, and the words around them."""

from __future__ import annotations

import datetime

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
_dates = st.dates(min_value=datetime.date(1930, 1, 1), max_value=datetime.date(2006, 12, 31))


def _digits(count: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=count, max_size=count)


@st.composite
def dk_cpr(draw: st.DrawFn) -> str:
    born = draw(_dates)
    serial = draw(_digits(4))
    value = born.strftime("%d%m%y") + serial
    assume(cpr.is_valid(value))
    return value[:6] + draw(st.sampled_from(["-", "", " "])) + value[6:]


@st.composite
def fi_hetu(draw: st.DrawFn) -> str:
    born = draw(_dates)
    sign = "-" if born.year < 2000 else draw(st.sampled_from("ABCDEF"))
    individual = f"{draw(st.integers(2, 899)):03d}"
    body = born.strftime("%d%m%y") + sign + individual
    value = body + hetu._calc_checksum(born.strftime("%d%m%y") + individual)
    assume(hetu.is_valid(value))
    return value.lower() if draw(st.booleans()) else value


@st.composite
def se_personnummer(draw: st.DrawFn) -> str:
    born = draw(_dates)
    body = born.strftime("%y%m%d") + draw(_digits(3))
    value = body + luhn.calc_check_digit(body)
    assume(personnummer.is_valid(value))
    if draw(st.booleans()):
        return born.strftime("%Y")[:2] + value
    return value[:6] + draw(st.sampled_from(["-", ""])) + value[6:]


@st.composite
def no_fodselsnummer(draw: st.DrawFn) -> str:
    born = draw(_dates)
    body = born.strftime("%d%m%y") + draw(_digits(3))
    first = fodselsnummer.calc_check_digit1(body)
    second = fodselsnummer.calc_check_digit2(body + first)
    value = body + first + second
    assume(len(value) == 11 and fodselsnummer.is_valid(value))
    return value


@st.composite
def de_tax_id(draw: st.DrawFn) -> str:
    # Ten digits, one of them twice (the IdNr rule), then the ISO 7064 check digit.
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
        bban = draw(st.sampled_from(["NWBK", "BARC", "HBUK", "MIDL"])) + draw(_digits(14))
    elif country == "SE":
        bban = draw(st.sampled_from(["500", "800", "950"])) + draw(_digits(17))
    else:
        bban = draw(_digits(_IBAN_BBAN[country]))
    value = country + stdnum_iban.calc_check_digits(country + "00" + bban) + bban
    assume(stdnum_iban.is_valid(value))
    if draw(st.booleans()):
        return " ".join(value[i : i + 4] for i in range(0, len(value), 4))
    return value


@st.composite
def payment_card(draw: st.DrawFn) -> str:
    body = draw(st.sampled_from(["4", "51", "52", "53", "54", "55"]))
    body += draw(_digits(15 - len(body)))
    value = body + luhn.calc_check_digit(body)
    if draw(st.booleans()):
        return " ".join(value[i : i + 4] for i in range(0, 16, 4))
    return value


@st.composite
def no_bank_account(draw: st.DrawFn) -> str:
    body = draw(st.sampled_from(["1503", "1822", "3000", "9710"])) + draw(_digits(6))
    check = kontonr._calc_check_digit(body + "0")
    assume(check != "10")
    value = body + check
    assume(kontonr.is_valid(value))
    return f"{value[:4]}.{value[4:6]}.{value[6:]}"


_MOBILE = {"DK": ("+45 ", "2", 7), "DE": ("+49 ", "151", 8), "SE": ("+46 ", "70", 7)}


@st.composite
def phone(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(sorted(_MOBILE)))
    code, start, rest = _MOBILE[region]
    national = start + draw(_digits(rest))
    number = phonenumbers.parse(code + national, None)
    assume(phonenumbers.is_valid_number(number))
    return code + national


@st.composite
def email(draw: st.DrawFn) -> str:
    local = draw(st.text("abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=10))
    if draw(st.booleans()):
        local += "." + draw(st.text("abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=8))
    domain = draw(st.sampled_from(["gmail.com", "hotmail.dk", "web.de", "elisa.fi", "telia.se"]))
    return f"{local}@{domain}"


@st.composite
def customer_number(draw: st.DrawFn) -> str:
    return draw(st.sampled_from("123456789")) + draw(_digits(draw(st.integers(5, 9))))


_STREETS = {
    "da": "Algade Kirkevej Vestergade Strandvejen",
    "de": "Hauptstraße Lindenweg Bahnhofstraße Gartenweg",
    "fi": "Hämeenkatu Rantatie Koivukuja Asemakatu",
    "sv": "Storgatan Kyrkvägen Drottninggatan Parkvägen",
    "nb": "Storgata Kirkeveien Parkveien Skolegata",
    "en": "Church Lane|Manor Road|King Street|Station Road",
}


@st.composite
def postal_address(draw: st.DrawFn, lang: str) -> str:
    number = str(draw(st.integers(1, 299)))
    if lang == "en":
        return f"{number} {draw(st.sampled_from(_STREETS['en'].split('|')))}"
    return f"{draw(st.sampled_from(_STREETS[lang].split()))} {number}"


#: Per type and language: how a customer would write the value.
TEMPLATES: dict[T, dict[str, str]] = {
    T.EMAIL_ADDRESS: {
        "da": "Skriv til mig på {v} tak",
        "de": "Antwort bitte an {v}, danke",
        "fi": "Vastaus osoitteeseen {v} kiitos",
        "sv": "Min mejl är {v} tack",
        "nb": "Svar gjerne til {v} takk",
        "en": "My email is {v} thanks",
    },
    T.PHONE_NUMBER: {
        "da": "Ring til mig på {v} i dag",
        "de": "Ich bin unter {v} erreichbar",
        "fi": "Soittakaa minulle numeroon {v} kiitos",
        "sv": "Ring mig på {v} tack",
        "nb": "Ring meg på {v} takk",
        "en": "Please call me on {v} today",
    },
    T.DK_CPR: {lang: "Mit CPR-nummer er {v} hvis I skal bruge det" for lang in LANGS},
    T.FI_HETU: {lang: "Henkilötunnukseni on {v} kiitos" for lang in LANGS},
    T.SE_PERSONNUMMER: {lang: "Mitt personnummer är {v} tack" for lang in ("sv",)}
    | {lang: "Swedish personnummer: {v} thanks" for lang in ("da", "de", "fi", "nb", "en")},
    T.NO_FODSELSNUMMER: {lang: "Fødselsnummeret mitt er {v} takk" for lang in LANGS},
    T.DE_TAX_ID: {lang: "Meine Steuer-ID lautet {v} danke" for lang in LANGS},
    T.IBAN: {lang: "IBAN: {v} thanks" for lang in LANGS},
    T.PAYMENT_CARD: {
        "da": "Kortnummeret er {v} tak",
        "de": "Kreditkartennummer: {v} danke",
        "fi": "Kortin numero: {v} kiitos",
        "sv": "Kortnummer: {v} tack",
        "nb": "Kortnummer: {v} takk",
        "en": "Card number: {v} thanks",
    },
    T.BANK_ACCOUNT: {lang: "Kontonummeret mitt er {v} takk" for lang in LANGS},
    T.CUSTOMER_NUMBER: {
        "da": "Mit kundenummer er {v} tak",
        "de": "Meine Kundennummer ist {v} danke",
        "fi": "Asiakasnumeroni on {v} kiitos",
        "sv": "Mitt kundnummer är {v} tack",
        "nb": "Kundenummeret mitt er {v} takk",
        "en": "My customer number is {v} thanks",
    },
    T.POSTAL_ADDRESS: {
        "da": "Jeg bor på {v} tak",
        "de": "Ich wohne in der {v} danke",
        "fi": "Asun osoitteessa {v} kiitos",
        "sv": "Jag bor på {v} tack",
        "nb": "Jeg bor i {v} takk",
        "en": "I live at {v} thanks",
    },
}

VALUES: dict[T, st.SearchStrategy[str]] = {
    T.EMAIL_ADDRESS: email(),
    T.PHONE_NUMBER: phone(),
    T.DK_CPR: dk_cpr(),
    T.FI_HETU: fi_hetu(),
    T.SE_PERSONNUMMER: se_personnummer(),
    T.NO_FODSELSNUMMER: no_fodselsnummer(),
    T.DE_TAX_ID: de_tax_id(),
    T.IBAN: iban(),
    T.PAYMENT_CARD: payment_card(),
    T.BANK_ACCOUNT: no_bank_account(),
    T.CUSTOMER_NUMBER: customer_number(),
}

#: Filler words without digits or context words, per language.
FILLER = {
    "da": "hej jeg har ventet længe på svar og det er ikke godt nok venlig hilsen",
    "de": "hallo ich warte schon lange auf eine antwort das ist nicht gut viele grüße",
    "fi": "hei olen odottanut vastausta pitkään tämä ei ole hyvä terveisin",
    "sv": "hej jag har väntat länge på svar det är inte bra vänliga hälsningar",
    "nb": "hei jeg har ventet lenge på svar dette er ikke bra vennlig hilsen",
    "en": "hello I have waited a long time for an answer this is not good regards",
}
