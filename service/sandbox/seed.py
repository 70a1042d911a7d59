"""Deterministic demo content: customers of Nordic, German and British companies commenting.

Everything is invented (people, companies, numbers), but every identifier is VALID by its
national rules (python-stdnum checksums, real birth dates), because detectors check them:
CPR (mod 11), henkilötunnus, personnummer (Luhn), fødselsnummer (two mod-11 digits),
Steuer-ID (ISO 7064 mod 11,10 and its digit-repetition rule), IBAN (mod 97).

``generate_comment(rng, lang)`` returns ``(text, pii_types)`` with the types named as in
shared/INTERFACES.md, so benchmarks have ground truth. Same seed, same content.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.de import idnr
from stdnum.dk import cpr
from stdnum.fi import hetu
from stdnum.iso7064 import mod_11_10
from stdnum.no import fodselsnummer
from stdnum.se import personnummer

if TYPE_CHECKING:
    from service.sandbox.state import Store

LANGS: tuple[str, ...] = ("da", "de", "fi", "sv", "nb", "en")


@dataclass(frozen=True)
class Company:
    name: str
    lang: str
    category: str


COMPANIES: tuple[Company, ...] = (
    Company("Lynnet Mobil", "da", "Telecommunication Company"),
    Company("Funkwelt Mobilfunk", "de", "Telecommunication Company"),
    Company("Saimaan Pankki", "fi", "Bank"),
    Company("Mälartåg", "sv", "Train Station"),
    Company("Vestkyst Sparebank", "nb", "Bank"),
    Company("Northline Rail", "en", "Train Station"),
    Company("Kystbanken", "da", "Bank"),
    Company("Mittelbahn", "de", "Train Station"),
    Company("Kaiku Mobiili", "fi", "Telecommunication Company"),
    Company("Norrsken Telekom", "sv", "Telecommunication Company"),
    Company("Fjelltelefon", "nb", "Telecommunication Company"),
    Company("Harbour Bank", "en", "Bank"),
)

FIRST = {
    "da": ["Mette", "Søren", "Line", "Jens", "Birgitte", "Rasmus", "Camilla", "Ole", "Signe"],
    "de": ["Jürgen", "Sabine", "Lukas", "Anja", "Matthias", "Katrin", "Torben", "Ute", "Jonas"],
    "fi": ["Aino", "Juha", "Riikka", "Mikko", "Tuula", "Eero", "Sanna", "Pekka", "Liisa"],
    "sv": ["Annika", "Johan", "Karin", "Mats", "Elin", "Björn", "Sofia", "Lars", "Ingrid"],
    "nb": ["Kari", "Ola", "Ingrid", "Håkon", "Silje", "Eirik", "Marte", "Terje", "Solveig"],
    "en": ["Emma", "Oliver", "Sophie", "Harry", "Chloe", "George", "Amelia", "Jack", "Grace"],
}
LAST = {
    "da": ["Kjærgaard", "Lundsteen", "Bækgaard", "Holmsted", "Vindahl", "Nørbjerg", "Skovlund"],
    "de": ["Brunnhuber", "Falkenrath", "Kesselring", "Lindqvist", "Mahlmann", "Ostertag"],
    "fi": ["Kivimäki", "Harjunpää", "Lehtisalo", "Mäntyranta", "Koskelo", "Vuorinen"],
    "sv": ["Ekdahl", "Lindgrenius", "Sjöholm", "Bergkvist", "Forsmark", "Åkerlind"],
    "nb": ["Haugland", "Bjørnstad", "Fjellheim", "Kvamme", "Strømsnes", "Vikøren"],
    "en": ["Ashworth", "Pembridge", "Callow", "Thistlewood", "Marchbank", "Holloway"],
}
MAIL_DOMAINS = {
    "da": ["gmail.com", "hotmail.dk", "outlook.dk", "live.dk"],
    "de": ["gmx.de", "web.de", "t-online.de", "gmail.com"],
    "fi": ["gmail.com", "outlook.com", "luukku.com"],
    "sv": ["gmail.com", "hotmail.se", "telia.com"],
    "nb": ["gmail.com", "online.no", "hotmail.no"],
    "en": ["gmail.com", "outlook.com", "btinternet.com", "yahoo.co.uk"],
}
STREETS = {
    "da": [("Vestergade", "8000 Aarhus C"), ("Nørrebrogade", "2200 København N")],
    "de": [("Lindenstraße", "50667 Köln"), ("Bahnhofstraße", "80335 München")],
    "fi": [("Hämeenkatu", "33200 Tampere"), ("Mannerheimintie", "00100 Helsinki")],
    "sv": [("Storgatan", "114 51 Stockholm"), ("Kungsgatan", "411 19 Göteborg")],
    "nb": [("Storgata", "0155 Oslo"), ("Kongens gate", "7011 Trondheim")],
    "en": [("Mill Lane", "Leeds LS1 4AB"), ("Station Road", "York YO1 6GA")],
}
CUSTOMER_KEYWORD = {
    "da": "kundenummer",
    "de": "Kundennummer",
    "fi": "asiakasnumero",
    "sv": "kundnummer",
    "nb": "kundenummer",
    "en": "customer number",
}
NATIONAL_ID = {
    "da": "DK_CPR",
    "de": "DE_TAX_ID",
    "fi": "FI_HETU",
    "sv": "SE_PERSONNUMMER",
    "nb": "NO_FODSELSNUMMER",
}

# {phone} {email} {nid} {iban} {cust} {addr} placeholders; innocent ones have none.
INNOCENT = {
    "da": [
        "Jeg har ikke haft internet i tre dage nu. Hvornår bliver det løst?",
        "Toget var igen 20 minutter forsinket i morges. Det er simpelthen ikke godt nok.",
        "Hvorfor er min regning steget uden varsel? Ret skuffende.",
        "Tak for hurtig hjælp i butikken i går!",
        "Jeg har ventet i telefonkø i over en time.",
    ],
    "de": [
        "Seit Montag kein Netz in der ganzen Straße. Wann wird das behoben?",
        "Der Zug fiel heute schon wieder aus, ohne Durchsage am Bahnsteig.",
        "Die Rechnung ist viel zu hoch, das habe ich nie bestellt.",
        "Danke an das Team in der Filiale, super freundlich!",
        "Warteschleife seit 45 Minuten. So geht Kundenservice nicht.",
    ],
    "fi": [
        "Nettiyhteys on ollut poikki koko viikonlopun. Milloin tämä korjataan?",
        "Juna myöhässä taas, eikä kukaan kertonut mitään.",
        "Miksi laskuni nousi ilman ilmoitusta?",
        "Kiitos nopeasta avusta myymälässä!",
        "Jonotin asiakaspalveluun puolitoista tuntia.",
    ],
    "sv": [
        "Inget bredband sedan i fredags. När blir det fixat?",
        "Tåget var inställt igen utan förklaring.",
        "Varför har min faktura höjts utan att jag fått besked?",
        "Tack för snabb hjälp i butiken!",
        "Har väntat i telefonkö i en timme nu.",
    ],
    "nb": [
        "Har ikke hatt internett siden lørdag. Når blir dette fikset?",
        "Toget var innstilt igjen i dag, ingen informasjon på perrongen.",
        "Hvorfor har regningen min gått opp uten varsel?",
        "Takk for rask hjelp i butikken!",
        "Har sittet i telefonkø i over en time.",
    ],
    "en": [
        "No broadband since Friday. When will this be fixed?",
        "Train cancelled again this morning with no announcement.",
        "Why has my bill gone up without any notice?",
        "Thanks to the lovely staff at the branch yesterday!",
        "Been on hold for an hour now. Not good enough.",
    ],
}
PERSONAL = {
    "da": [
        "Ring til mig på {phone}, jeg har ventet i en uge.",
        "Mit {cust_kw} er {cust}, kan I se på min sag?",
        "Skriv til {email}, jeg kan ikke logge ind.",
        "I har mit CPR {nid} i forvejen, hvorfor skal jeg oplyse det igen?",
        "Pengene skulle være overført til {iban} for to uger siden!",
        "Routeren skulle sendes til {addr}, men den er aldrig kommet.",
        "Hej, det er {name}. Ring på {phone} eller skriv til {email}.",
    ],
    "de": [
        "Rufen Sie mich bitte unter {phone} zurück.",
        "Meine {cust_kw} lautet {cust}, bitte kümmern Sie sich darum.",
        "Schreiben Sie mir an {email}, die Hotline ist ständig besetzt.",
        "Warum fragen Sie nach meiner Steuer-ID {nid}? Die habe ich doch schon geschickt.",
        "Erstattung bitte auf {iban}, das ist jetzt die dritte Anfrage.",
        "Der Techniker sollte zu {addr} kommen, es kam niemand.",
        "Ich bin {name}, erreichbar unter {phone}.",
    ],
    "fi": [
        "Soittakaa minulle numeroon {phone}.",
        "Minun {cust_kw} on {cust}, katsokaa asia.",
        "Laittakaa viestiä osoitteeseen {email}.",
        "Henkilötunnukseni on {nid}, miksi tunnistautuminen ei toimi?",
        "Palautus tilille {iban} ei ole vieläkään tullut.",
        "Uusi modeemi piti toimittaa osoitteeseen {addr}.",
        "Olen {name}, puh {phone}.",
    ],
    "sv": [
        "Ring mig på {phone}, tack.",
        "Mitt {cust_kw} är {cust}, kan ni kolla?",
        "Maila mig på {email} istället.",
        "Mitt personnummer är {nid}, varför hittar ni mig inte i systemet?",
        "Återbetalningen skulle gå till {iban}.",
        "Paketet skulle levereras till {addr} men kom aldrig.",
        "Jag heter {name}, nås på {phone}.",
    ],
    "nb": [
        "Ring meg på {phone}.",
        "Mitt {cust_kw} er {cust}, kan dere se på saken?",
        "Send svar til {email}.",
        "Fødselsnummeret mitt er {nid}, hvorfor får jeg ikke logget inn?",
        "Refusjonen skulle gå til {iban}.",
        "Ruteren skulle sendes til {addr}.",
        "Dette er {name}, tlf {phone}.",
    ],
    "en": [
        "Please call me back on {phone}.",
        "My {cust_kw} is {cust}, please look into it.",
        "Email me at {email}, the chat keeps crashing.",
        "The refund should go to {iban}, still nothing.",
        "The engineer was meant to come to {addr} and never showed up.",
        "It's {name}, reach me on {phone} or {email}.",
    ],
}
POSTS = {
    "da": ["Planlagt vedligehold i nat mellem 01 og 05.", "Nye priser fra 1. marts."],
    "de": ["Wartungsarbeiten heute Nacht von 1 bis 5 Uhr.", "Neue Tarife ab dem 1. März."],
    "fi": ["Huoltokatko tänä yönä klo 1–5.", "Uudet hinnat 1.3. alkaen."],
    "sv": ["Planerat underhåll i natt kl 01–05.", "Nya priser från 1 mars."],
    "nb": ["Planlagt vedlikehold i natt mellom 01 og 05.", "Nye priser fra 1. mars."],
    "en": ["Planned maintenance tonight from 1am to 5am.", "New prices from 1 March."],
}
COMPANY_REPLIES = {
    "da": "Hej! Skriv til os i en privat besked, så hjælper vi.",
    "de": "Hallo! Bitte schreib uns eine Direktnachricht, dann helfen wir.",
    "fi": "Hei! Laita meille yksityisviesti, niin autamme.",
    "sv": "Hej! Skicka ett privat meddelande så hjälper vi dig.",
    "nb": "Hei! Send oss en privat melding, så hjelper vi deg.",
    "en": "Hi! Please send us a private message and we'll help.",
}


def _birth_date(rng: random.Random, low: int = 1940, high: int = 2004) -> date:
    return date(low, 1, 1) + timedelta(
        days=rng.randrange((date(high, 12, 31) - date(low, 1, 1)).days)
    )


def make_cpr(rng: random.Random) -> str:
    """A CPR number born before 2007 that also passes the old mod-11 check."""
    while True:
        born = _birth_date(rng)
        yy = born.year % 100
        if born.year < 2000:
            centuries = "0123" if yy < 37 else "01234"
        else:
            centuries = "49" if yy < 37 else "5678"
        first = rng.choice(centuries)
        number = f"{born:%d%m}{yy:02d}{first}{rng.randrange(1000):03d}"
        if cpr.checksum(number) == 0 and cpr.is_valid(number):
            return f"{number[:6]}-{number[6:]}"


def make_hetu(rng: random.Random) -> str:
    born = _birth_date(rng)
    sign = "-" if born.year < 2000 else "A"
    individual = rng.randrange(2, 900)
    digits = f"{born:%d%m}{born.year % 100:02d}{individual:03d}"
    check = "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(digits) % 31]
    number = f"{digits[:6]}{sign}{digits[6:]}{check}"
    assert hetu.is_valid(number)
    return number


def make_personnummer(rng: random.Random) -> str:
    born = _birth_date(rng)
    body = f"{born.year % 100:02d}{born:%m%d}{rng.randrange(1000):03d}"
    number = f"{body[:6]}-{body[6:]}{luhn.calc_check_digit(body)}"
    assert personnummer.is_valid(number)
    return number


def make_fodselsnummer(rng: random.Random) -> str:
    while True:
        born = _birth_date(rng, 1940, 1999)
        individual = rng.randrange(0, 500)  # 000-499: born 1900-1999
        base = f"{born:%d%m}{born.year % 100:02d}{individual:03d}"
        k1 = fodselsnummer.calc_check_digit1(base)
        if len(k1) != 1:
            continue
        k2 = fodselsnummer.calc_check_digit2(base + k1)
        number = base + k1 + k2
        if len(k2) == 1 and fodselsnummer.is_valid(number):
            return number


def make_steuer_id(rng: random.Random) -> str:
    while True:
        digits = rng.sample("0123456789", 9)
        digits.insert(rng.randrange(10), rng.choice(digits))
        if digits[0] == "0":
            continue
        body = "".join(digits)
        number = body + mod_11_10.calc_check_digit(body)
        if idnr.is_valid(number):
            return f"{number[:2]} {number[2:5]} {number[5:8]} {number[8:]}"


_BBAN = {"da": ("DK", 14), "de": ("DE", 18), "fi": ("FI", 14), "sv": ("SE", 20), "nb": ("NO", 11)}


def make_iban(rng: random.Random, lang: str) -> str:
    while True:
        if lang == "en":
            country, bban = "GB", "HRBK" + "".join(rng.choice("0123456789") for _ in range(14))
        else:
            country, length = _BBAN[lang]
            bban = "".join(rng.choice("0123456789") for _ in range(length))
        number = country + stdnum_iban.calc_check_digits(country + "00" + bban) + bban
        if stdnum_iban.is_valid(number):
            return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def make_phone(rng: random.Random, lang: str) -> str:
    def d(n: int) -> str:
        return "".join(rng.choice("0123456789") for _ in range(n))

    match lang:
        case "da":
            first = rng.choice("2345678")
            number = first + d(7)
            return rng.choice(
                [f"{number[:2]} {number[2:4]} {number[4:6]} {number[6:]}", f"+45 {number}"]
            )
        case "de":
            return rng.choice([f"0151 {d(8)}", f"+49 170 {d(7)}", f"030 {d(8)}"])
        case "fi":
            return rng.choice([f"040 {d(3)} {d(4)}", f"+358 50 {d(7)}"])
        case "sv":
            return rng.choice([f"070-{d(3)} {d(2)} {d(2)}", f"+46 73 {d(3)} {d(2)} {d(2)}"])
        case "nb":
            return rng.choice([f"{rng.choice('49')}{d(2)} {d(2)} {d(3)}", f"+47 9{d(7)}"])
        case _:
            return rng.choice([f"07700 900{d(3)}", f"+44 7700 900{d(3)}"])


def make_person(rng: random.Random, lang: str) -> str:
    return f"{rng.choice(FIRST[lang])} {rng.choice(LAST[lang])}"


def _ascii_local(name: str) -> str:
    table = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ä": "a", "ö": "o", "ü": "u"})
    return name.lower().translate(table).replace("ß", "ss").replace(" ", ".")


def generate_comment(
    rng: random.Random, lang: str, *, personal: bool, name: str | None = None
) -> tuple[str, tuple[str, ...]]:
    """One comment in ``lang``; with ``personal`` it exposes one or two kinds of personal data."""
    if not personal:
        return rng.choice(INNOCENT[lang]), ()
    name = name or make_person(rng, lang)
    template = rng.choice(PERSONAL[lang])
    found: list[str] = []
    values: dict[str, str] = {"name": name, "cust_kw": CUSTOMER_KEYWORD[lang]}
    if "{phone}" in template:
        values["phone"] = make_phone(rng, lang)
        found.append("PHONE_NUMBER")
    if "{email}" in template:
        values["email"] = (
            f"{_ascii_local(name)}{rng.randrange(10, 99)}@{rng.choice(MAIL_DOMAINS[lang])}"
        )
        found.append("EMAIL_ADDRESS")
    if "{nid}" in template:
        values["nid"] = {
            "da": make_cpr,
            "de": make_steuer_id,
            "fi": make_hetu,
            "sv": make_personnummer,
            "nb": make_fodselsnummer,
        }[lang](rng)
        found.append(NATIONAL_ID[lang])
    if "{iban}" in template:
        values["iban"] = make_iban(rng, lang)
        found.append("IBAN")
    if "{cust}" in template:
        values["cust"] = str(rng.randrange(10_000_000, 99_999_999))
        found.append("CUSTOMER_NUMBER")
    if "{addr}" in template:
        street, city = rng.choice(STREETS[lang])
        values["addr"] = (
            f"{rng.randrange(1, 120)} {street}, {city}"
            if lang == "en"
            else f"{street} {rng.randrange(1, 120)}, {city}"
        )
        found.append("POSTAL_ADDRESS")
    return template.format(**values), tuple(found)


SEED_EPOCH = 1_735_689_600  # 2025-01-01T00:00:00Z: seeded content never depends on the clock


@dataclass(frozen=True)
class SeedSummary:
    seed: int
    pages: int
    posts: int
    comments: int
    personal: int
    ig_media: int
    ig_comments: int


def page_language(name: str) -> str:
    for company in COMPANIES:
        if company.name == name:
            return company.lang
    return "en"


def seed_store(
    store: Store,
    seed: int,
    *,
    page_ids: list[str] | None = None,
    posts_per_page: int = 5,
    comments_per_post: int = 8,
    personal_ratio: float = 0.45,
    reply_ratio: float = 0.1,
    ig_media_per_account: int = 3,
) -> SeedSummary:
    """Fills pages (default: all) with posts, customer comments and company replies.

    No webhooks fire for seeded content: it is "history" a backfill should find.
    """
    rng = random.Random(seed)
    posts = comments = personal = ig_media = ig_comments = 0
    with store.lock:
        targets = page_ids if page_ids is not None else sorted(store.pages)
        for page_id in targets:
            page = store.pages[page_id]
            lang = page_language(page.name)
            for p in range(posts_per_page):
                post_time = SEED_EPOCH + p * 7_200 + rng.randrange(600)
                post = store.add_post(
                    page_id,
                    rng.choice(POSTS[lang]),
                    created_time=post_time,
                    notify=False,
                )
                posts += 1
                for c in range(comments_per_post):
                    is_personal = rng.random() < personal_ratio
                    author = make_person(rng, lang)
                    text, found = generate_comment(rng, lang, personal=is_personal, name=author)
                    comment = store.add_comment(
                        post.id,
                        text,
                        author_name=author,
                        created_time=post_time + 60 * (c + 1) + rng.randrange(60),
                        notify=False,
                        pii=found,
                    )
                    comments += 1
                    personal += bool(found)
                    if rng.random() < reply_ratio:
                        store.add_comment(
                            comment.id,
                            COMPANY_REPLIES[lang],
                            created_time=comment.created_time + 30,
                            notify=False,
                        )
                        comments += 1
            if page.ig_user_id is not None:
                for m in range(ig_media_per_account):
                    media_time = SEED_EPOCH + m * 86_400
                    media = store.add_ig_media(
                        page.ig_user_id, rng.choice(POSTS[lang]), created_time=media_time
                    )
                    ig_media += 1
                    for c in range(max(1, comments_per_post // 2)):
                        is_personal = rng.random() < personal_ratio
                        text, found = generate_comment(rng, lang, personal=is_personal)
                        store.add_comment(
                            media.id,
                            text,
                            author_name=make_person(rng, lang),
                            created_time=media_time + 60 * (c + 1),
                            notify=False,
                            pii=found,
                        )
                        ig_comments += 1
                        personal += bool(found)
    return SeedSummary(seed, len(targets), posts, comments, personal, ig_media, ig_comments)


# --- comment streams: a storm in an evening, a steady busy page --------------------------------

# Telenor's evening (shared/seeds): over 3,000 comments on one post within hours, most in the
# first hour or two. Phases of (minutes, share of the comments); 3,000 over 3 h 10 min.
STORM_PHASES: tuple[tuple[int, float], ...] = ((10, 0.10), (60, 0.50), (60, 0.30), (60, 0.10))


def storm_times(rng: random.Random, start: int, comments: int = 3_000) -> list[int]:
    """Creation times (unix seconds) of a storm's comments: a steep start, then a slow decay."""
    times: list[int] = []
    phase_start = start
    for minutes, share in STORM_PHASES:
        count = round(comments * share)
        span = minutes * 60
        times.extend(phase_start + rng.randrange(span) for _ in range(count))
        phase_start += span
    return sorted(times[:comments])


def steady_times(rng: random.Random, start: int, end: int, per_minute: float) -> list[int]:
    """A Poisson stream of ``per_minute`` comments a minute over [start, end)."""
    times: list[int] = []
    t = float(start)
    while True:
        t += rng.expovariate(per_minute / 60)
        if t >= end:
            return times
        times.append(int(t))


@dataclass(frozen=True)
class StreamSummary:
    post_id: str
    comments: int
    replies: int
    first: int | None
    last: int | None


def seed_comment_stream(
    store: Store,
    page_id: str,
    times: list[int],
    *,
    seed: int = 1,
    post_id: str | None = None,
    personal_ratio: float = 0.05,
    reply_ratio: float = 0.05,
    reply_after: int = 600,
    notify: bool = False,
) -> StreamSummary:
    """Customer comments at ``times`` on one post (a new one unless ``post_id``), a share of
    them answered by the page ``reply_after`` seconds later. With ``notify`` the sandbox sends
    their webhooks as for live comments; without, they are history for a backfill or a poll."""
    rng = random.Random(seed)
    lang = page_language(store.pages[page_id].name)
    replies = 0
    if post_id is None:
        post_time = (min(times) - 600) if times else None
        post_id = store.add_post(
            page_id, rng.choice(POSTS[lang]), created_time=post_time, notify=notify
        ).id
    for created in sorted(times):
        author = make_person(rng, lang)
        text, found = generate_comment(
            rng, lang, personal=rng.random() < personal_ratio, name=author
        )
        comment = store.add_comment(
            post_id, text, author_name=author, created_time=created, notify=notify, pii=found
        )
        if rng.random() < reply_ratio:
            store.add_comment(
                comment.id,
                COMPANY_REPLIES[lang],
                created_time=created + reply_after,
                notify=notify,
            )
            replies += 1
    return StreamSummary(
        post_id=post_id,
        comments=len(times),
        replies=replies,
        first=min(times) if times else None,
        last=max(times) if times else None,
    )
