"""Hand-written comments, worded differently from the development corpus.

Each case: (lang, text, expected) where expected lists (type, value) pairs; the value is
the exact labelled span.  All numbers are invented and pass (or, for negatives, fail)
their rules.
"""

from __future__ import annotations

from service.detection import EntityType as T

Case = tuple[str, str, list[tuple[T, str]]]

POSITIVE: list[Case] = [
    # e-mail, plain and obfuscated
    (
        "da",
        "Skriv venligst til anna (at) gmail.com i stedet.",
        [(T.EMAIL_ADDRESS, "anna (at) gmail.com")],
    ),
    (
        "en",
        "reach me: anna dot jensen at gmail dot com thanks",
        [(T.EMAIL_ADDRESS, "anna dot jensen at gmail dot com")],
    ),
    (
        "de",
        "Meine Adresse lautet m.mueller[at]web[dot]de, danke",
        [(T.EMAIL_ADDRESS, "m.mueller[at]web[dot]de")],
    ),
    (
        "sv",
        "Maila mig: karin.berg snabel-a telia.com tack",
        [(T.EMAIL_ADDRESS, "karin.berg snabel-a telia.com")],
    ),
    (
        "fi",
        "Vastatkaa sähköpostiin 😀jussi.k@elisa.fi😀 kiitos",
        [(T.EMAIL_ADDRESS, "jussi.k@elisa.fi")],
    ),
    # phones
    ("da", "Min mobil: 2 0 3 4 5 6 7 8", [(T.PHONE_NUMBER, "2 0 3 4 5 6 7 8")]),
    ("da", "I kan ringe til mig på 28.45.19.73 i aften", [(T.PHONE_NUMBER, "28.45.19.73")]),
    ("da", "Mobilnr +45 28 45\n19 73 hvis I vil", [(T.PHONE_NUMBER, "+45 28 45\n19 73")]),
    ("de", "Handy 0171 2345678📱 bitte nur abends", [(T.PHONE_NUMBER, "0171 2345678")]),
    (
        "de",
        "Erreichbar bin ich unter +49 (0)30 12345678.",
        [(T.PHONE_NUMBER, "+49 (0)30 12345678")],
    ),
    ("fi", "Puh 040 123 4567, soittakaa iltapäivällä", [(T.PHONE_NUMBER, "040 123 4567")]),
    ("sv", "Mobil: 070-123 45 67, ring efter fem", [(T.PHONE_NUMBER, "070-123 45 67")]),
    ("nb", "Mobilen min er 412 34 567.", [(T.PHONE_NUMBER, "412 34 567")]),
    ("en", "Call me back on 07911 123456 please", [(T.PHONE_NUMBER, "07911 123456")]),
    ("en", "my cell is (646) 412-3456 thx", [(T.PHONE_NUMBER, "(646) 412-3456")]),
    # national IDs
    ("da", "Mit personnummer er 090792-1395, hvis I skal bruge det", [(T.DK_CPR, "090792-1395")]),
    ("da", "cpr 0907921395", [(T.DK_CPR, "0907921395")]),
    ("fi", "hetuni on 131052-308t", [(T.FI_HETU, "131052-308t")]),
    ("sv", "personnr: 19811218-9876", [(T.SE_PERSONNUMMER, "19811218-9876")]),
    ("nb", "fnr. 01010150155 til info", [(T.NO_FODSELSNUMMER, "01010150155")]),
    ("de", "Meine IdNr lautet 86 095 742 719.", [(T.DE_TAX_ID, "86 095 742 719")]),
    # IBAN, accounts, cards
    (
        "de",
        "Bitte auf de89 3704 0044 0532 0130 00 zurück",
        [(T.IBAN, "de89 3704 0044 0532 0130 00")],
    ),
    ("en", "IBAN GB82WEST12345698765432 is mine", [(T.IBAN, "GB82WEST12345698765432")]),
    ("da", "Overfør pengene til reg. 1234 konto 0012345678 tak", [(T.BANK_ACCOUNT, "0012345678")]),
    ("nb", "Kontonr 1503.27.60012 ", [(T.BANK_ACCOUNT, "1503.27.60012")]),
    ("en", "Card 4111 1111 1111 1111 was charged twice", [(T.PAYMENT_CARD, "4111 1111 1111 1111")]),
    ("de", "Kreditkarte: 5500-0000-0000-0004", [(T.PAYMENT_CARD, "5500-0000-0000-0004")]),
    # customer numbers
    ("da", "Kundenummer: 4455 6677 – hvorfor svarer I ikke?", [(T.CUSTOMER_NUMBER, "4455 6677")]),
    ("de", "Meine Kundennr. lautet 12345678.", [(T.CUSTOMER_NUMBER, "12345678")]),
    ("sv", "Mitt kundnr är 9988776", [(T.CUSTOMER_NUMBER, "9988776")]),
    ("fi", "asiakasnumeroni 5544332 ei toimi", [(T.CUSTOMER_NUMBER, "5544332")]),
    ("en", "policy number: HX-448812 needs updating", [(T.CUSTOMER_NUMBER, "HX-448812")]),
    # addresses
    (
        "da",
        "Send den til Algade 12, 1. th., 4000 Roskilde tak",
        [(T.POSTAL_ADDRESS, "Algade 12, 1. th., 4000 Roskilde")],
    ),
    (
        "de",
        "Wohne jetzt in der Lindenstraße 8a, 10115 Berlin.",
        [(T.POSTAL_ADDRESS, "Lindenstraße 8a, 10115 Berlin")],
    ),
    (
        "sv",
        "Adressen är Storgatan 5 lgh 1102, 411 38 Göteborg",
        [(T.POSTAL_ADDRESS, "Storgatan 5 lgh 1102, 411 38 Göteborg")],
    ),
    ("nb", "Jeg bor i Storgata 14B, 0184 Oslo", [(T.POSTAL_ADDRESS, "Storgata 14B, 0184 Oslo")]),
    (
        "fi",
        "Osoitteeni on Hämeenkatu 12 A 5, 33100 Tampere",
        [(T.POSTAL_ADDRESS, "Hämeenkatu 12 A 5, 33100 Tampere")],
    ),
    (
        "en",
        "Please send it to 42 Church Lane, Leeds LS6 2AB",
        [(T.POSTAL_ADDRESS, "42 Church Lane, Leeds LS6 2AB")],
    ),
]

NEGATIVE: list[Case] = [
    ("da", "Jeg betalte 1.299,- for routeren og 49,95 kr. om måneden", []),
    ("da", "Ordrenummer 28451973 er ikke leveret", []),
    ("da", "Der er over 3000 kommentarer her, og I svarer kl. 14.30", []),
    ("de", "Sendungsnummer 00340434161094042557 hängt seit Tagen", []),
    ("de", "Meine FRITZ!Box 7590 startet ständig neu, 1000/1000 Mbit gebucht", []),
    ("fi", "Tilausnumero 51234987 ja lasku 12,90 €", []),
    ("sv", "Ordernummer 55123498, levereras 2024-05-13", []),
    ("nb", "Saksnummer 4412398 er fortsatt åpen", []),
    ("en", "Order 98123456 arrived late, tracking 1Z999AA10123456784", []),
    ("en", "Card ending in 4242, expires 09/27", []),
    ("en", "**** **** **** 1234 is on file", []),
    ("de", "Gutscheincode 4111 1111 1111 1112 geht nicht", []),
    ("sv", "Jag fick ett brev med referensen 811218-9875.", []),
    ("da", "Jeg ringede til 70 10 20 30 og ventede 45 minutter", []),
    ("de", "Ich habe die 0800 330 4000 angerufen.", []),
    ("en", "Speed was 250/50 Mbit on 12/03/2024 at 18:45", []),
    ("fi", "Odotin jonossa 48 minuuttia, vuonna 2023 sama juttu", []),
]
