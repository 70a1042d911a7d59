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
    # A number ending the line above (its keyword misspelt) is not part of the value on the
    # next line, which has its own words (a case the variation generator found on CI).
    ("da", "sgasnummer 7712093\n 30100000 er mit tlf", [(T.PHONE_NUMBER, "30100000")]),
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

# More wordings: how agents and customers write the same data in other words.
POSITIVE += [
    ("da", "Du kan træffe mig på 22 33 44 55 hele dagen", [(T.PHONE_NUMBER, "22 33 44 55")]),
    ("da", "Mit telefonnummer er 22334455.", [(T.PHONE_NUMBER, "22334455")]),
    (
        "da",
        "Kontakt mig på tlf 22 33 44 55 eller mail jens.hansen@mail.dk",
        [(T.PHONE_NUMBER, "22 33 44 55"), (T.EMAIL_ADDRESS, "jens.hansen@mail.dk")],
    ),
    (
        "da",
        "Vi har opdateret dit telefonnummer til 22 33 44 55. /Mette",
        [(T.PHONE_NUMBER, "22 33 44 55")],
    ),
    (
        "da",
        "Min nye adresse er Ryesgade 12, 2. th., 2200 København N",
        [(T.POSTAL_ADDRESS, "Ryesgade 12, 2. th., 2200 København N")],
    ),
    (
        "da",
        "Vi har registreret din nye adresse Østerbrogade 45 🙂",
        [(T.POSTAL_ADDRESS, "Østerbrogade 45")],
    ),
    ("da", "Abonnementsnr. 12345678 – jeg vil opsige", [(T.CUSTOMER_NUMBER, "12345678")]),
    ("da", "Medlemsnummer 7654321, kan I hjælpe?", [(T.CUSTOMER_NUMBER, "7654321")]),
    (
        "da",
        "Pengene bedes sat ind på reg. 1551 kontonr. 1234567890",
        [(T.BANK_ACCOUNT, "1234567890")],
    ),
    ("de", "Meine Handynummer: 0176 12345678", [(T.PHONE_NUMBER, "0176 12345678")]),
    ("de", "Tel.: 089 / 123 456 78", [(T.PHONE_NUMBER, "089 / 123 456 78")]),
    ("de", "Rufen Sie mich an: +49 170 1234567", [(T.PHONE_NUMBER, "+49 170 1234567")]),
    ("de", "Meine Vertragsnummer lautet V-1234567", [(T.CUSTOMER_NUMBER, "V-1234567")]),
    ("de", "Kundennr.: 1234567890 – bitte prüfen", [(T.CUSTOMER_NUMBER, "1234567890")]),
    (
        "de",
        "Ich wohne in der Goethestraße 12a, 60313 Frankfurt am Main",
        [(T.POSTAL_ADDRESS, "Goethestraße 12a, 60313 Frankfurt am Main")],
    ),
    ("de", "Schreibt mir an lena.schmidt(at)gmx.de", [(T.EMAIL_ADDRESS, "lena.schmidt(at)gmx.de")]),
    ("fi", "Puhelinnumeroni on 050 123 4567", [(T.PHONE_NUMBER, "050 123 4567")]),
    ("fi", "Voitte soittaa numeroon 044-1234567 iltaisin", [(T.PHONE_NUMBER, "044-1234567")]),
    ("fi", "Asiakasnro 1234567, laskusta puuttuu hyvitys", [(T.CUSTOMER_NUMBER, "1234567")]),
    (
        "fi",
        "Osoitteeni on Mannerheimintie 5 A 12, 00100 Helsinki",
        [(T.POSTAL_ADDRESS, "Mannerheimintie 5 A 12, 00100 Helsinki")],
    ),
    ("sv", "Mitt telefonnummer är 070-123 45 67", [(T.PHONE_NUMBER, "070-123 45 67")]),
    ("sv", "Ni kan nå mig på 08-123 456 78", [(T.PHONE_NUMBER, "08-123 456 78")]),
    (
        "sv",
        "Adress: Kungsgatan 10, 111 43 Stockholm",
        [(T.POSTAL_ADDRESS, "Kungsgatan 10, 111 43 Stockholm")],
    ),
    ("sv", "Mitt avtalsnummer är 123456-78", [(T.CUSTOMER_NUMBER, "123456-78")]),
    ("nb", "Telefonnummeret mitt er 912 34 567", [(T.PHONE_NUMBER, "912 34 567")]),
    ("nb", "Dere kan ringe meg på 91234567", [(T.PHONE_NUMBER, "91234567")]),
    ("nb", "Adressen min er Storgata 1, 0155 Oslo", [(T.POSTAL_ADDRESS, "Storgata 1, 0155 Oslo")]),
    ("nb", "Kundenr: 12345678, takk", [(T.CUSTOMER_NUMBER, "12345678")]),
    ("en", "You can reach me on 07911 123456 after 5pm", [(T.PHONE_NUMBER, "07911 123456")]),
    ("en", "My phone number is +44 7911 123456", [(T.PHONE_NUMBER, "+44 7911 123456")]),
    (
        "en",
        "My address is 221 Baker Street, London NW1 6XE",
        [(T.POSTAL_ADDRESS, "221 Baker Street, London NW1 6XE")],
    ),
    ("en", "Please refund to sort code 12-34-56, account 12345678", [(T.BANK_ACCOUNT, "12345678")]),
    ("en", "My membership number is 12345678", [(T.CUSTOMER_NUMBER, "12345678")]),
    (
        "en",
        "email me: john.smith at outlook dot com",
        [(T.EMAIL_ADDRESS, "john.smith at outlook dot com")],
    ),
    ("da", "Nyt nummer: 22 33 44 55", [(T.PHONE_NUMBER, "22 33 44 55")]),
    (
        "da",
        "Hej Kasper, vi har noteret 22 33 44 55 som dit nye nummer. /Mette",
        [(T.PHONE_NUMBER, "22 33 44 55")],
    ),
    ("de", "Kontakt: 0171 2345678", [(T.PHONE_NUMBER, "0171 2345678")]),
    ("en", "Contact me on +44 7911 123456", [(T.PHONE_NUMBER, "+44 7911 123456")]),
    ("sv", "Mitt nya mobilnummer 070-123 45 67", [(T.PHONE_NUMBER, "070-123 45 67")]),
    (
        "fi",
        "Olen soittanut numerosta 040 123 4567 monta kertaa",
        [(T.PHONE_NUMBER, "040 123 4567")],
    ),
    (
        "da",
        "CPR 010190-1234 og kundenr 12345678",
        [(T.DK_CPR, "010190-1234"), (T.CUSTOMER_NUMBER, "12345678")],
    ),
    ("de", "Steuer-IdNr.: 86095742719", [(T.DE_TAX_ID, "86095742719")]),
    ("en", "My Norwegian ID is 01010150155", [(T.NO_FODSELSNUMMER, "01010150155")]),
    (
        "sv",
        "Personnummer 811218-9876, kundnr 1234567",
        [(T.SE_PERSONNUMMER, "811218-9876"), (T.CUSTOMER_NUMBER, "1234567")],
    ),
    ("de", "IBAN DE89370400440532013000 BIC COBADEFFXXX", [(T.IBAN, "DE89370400440532013000")]),
    (
        "en",
        "Send it to 10 Downing Street, London SW1A 2AA",
        [(T.POSTAL_ADDRESS, "10 Downing Street, London SW1A 2AA")],
    ),
    (
        "nb",
        "Adresse: Karl Johans gate 22, 0159 Oslo",
        [(T.POSTAL_ADDRESS, "Karl Johans gate 22, 0159 Oslo")],
    ),
    (
        "da",
        "Adresse: H.C. Andersens Boulevard 27, 1553 København V",
        [(T.POSTAL_ADDRESS, "H.C. Andersens Boulevard 27, 1553 København V")],
    ),
]
NEGATIVE += [
    ("en", "Order #12345678 hasn't arrived", []),
    ("da", "Jeg har betalt 499 kr. for 3 måneder og ventet 45 minutter i telefonen", []),
    ("da", "Ordrenr. 10293847 – hvornår kommer pakken?", []),
    ("da", "Sagsnummer 20231234 er stadig åben", []),
    ("de", "Bestellnummer 123456789 ist seit Wochen unterwegs", []),
    ("de", "Die Rechnung über 1.234,56 € vom 12.03.2024 ist falsch", []),
    ("fi", "Tilausnumero 12345678 ei näy järjestelmässä", []),
    ("fi", "Maksoin 29,90 € ja odotin 45 minuuttia", []),
    ("sv", "Ordernummer 12345678, leverans saknas", []),
    ("nb", "Ordrenummer 12345678 er ikke levert", []),
    ("en", "I've been a customer for 12 years and paid £1,234.56", []),
    ("da", "Kortnr: 4571 2345 6789 0128", []),
    ("da", "Jeg har været kunde fra 2019-2023 og betalt 299 kr./md.", []),
    ("da", "Kundeservice på 33 12 34 56 svarer aldrig", []),
    ("da", "Jeg har ringet til 33 12 34 56 tre gange i dag", []),
    ("da", "Ring til os på 33 12 34 56 hvis det fortsætter. /Kasper", []),
    ("da", "Vi har åbent 8-16 og I kan ringe på 70 20 30 40", []),
    ("da", "Fakturanummer 2345678901 er forkert, beløbet er 1.234,50 kr", []),
    ("da", "Min sag har nummer 12345678 og den er ikke løst", []),
    ("da", "Pakkenummer 12345678901 – hvor er den?", []),
    ("da", "Jeg har kodeordet 12345678 men kan ikke logge ind", []),
    ("da", "Routeren (model 5G-AX3000) virker ikke efter opdatering 7.29", []),
    ("de", "Die Hotline 030 12345678 ist ständig besetzt", []),
    ("de", "Ich habe 3 Mal bei 089 1234567 angerufen, niemand geht ran", []),
    ("de", "Vorgangsnummer 123456789 – bitte um Rückmeldung", []),
    ("de", "Seit dem 01.02.2024 zahle ich 39,99 € im Monat", []),
    ("de", "Meine Bestellung 1234567890 ist nicht angekommen", []),
    ("de", "Der Router FRITZ!Box 7590 AX hat Firmware 7.57", []),
    ("fi", "Soitin numeroon 09 1234 5678 kolme kertaa", []),
    ("fi", "Tilaus 12345678 on yhä kesken, maksoin 49,90 €", []),
    ("fi", "Laskun viitenumero on 12345 67890 12345", []),
    ("sv", "Jag ringde 08-123 456 78 flera gånger", []),
    ("sv", "OCR-nummer 1234567890123 på fakturan stämmer inte", []),
    ("sv", "Ärendenummer 12345678, inget svar", []),
    ("nb", "KID-nummer 12345678901 er feil på fakturaen", []),
    ("nb", "Jeg ringte 22 12 34 56 flere ganger", []),
    ("nb", "Saksnr 1234567 ligger fortsatt hos dere", []),
    ("en", "I called 020 7946 0018 three times", []),
    ("en", "Order number 1234567890 never arrived", []),
    ("en", "Your reference 123456789 means nothing to me", []),
    ("en", "I paid $1,049.00 on 03/04/2024 at 14:30", []),
    ("en", "Ticket #12345678 has been open for 3 weeks", []),
]

# The company's own number, in agents' and customers' words; streets of no common form.
POSITIVE += [
    (
        "da",
        "Jeg ringede til jer i går, ring til mig på 33 12 34 56",
        [(T.PHONE_NUMBER, "33 12 34 56")],
    ),
    (
        "de",
        "Ruf mich unter 030 1234567 an, ich habe euch angerufen",
        [(T.PHONE_NUMBER, "030 1234567")],
    ),
    (
        "da",
        "Jeg bor på Strøget 12, 1160 København K",
        [(T.POSTAL_ADDRESS, "Strøget 12, 1160 København K")],
    ),
    (
        "sv",
        "Jag bor på Stureplan 4, 114 35 Stockholm",
        [(T.POSTAL_ADDRESS, "Stureplan 4, 114 35 Stockholm")],
    ),
    ("da", "12345678 er mit kundenummer", [(T.CUSTOMER_NUMBER, "12345678")]),
    ("da", "Ring (+45) 22 33 44 55 efter kl. 16", [(T.PHONE_NUMBER, "(+45) 22 33 44 55")]),
]
NEGATIVE += [
    ("de", "Hallo Jonas, du erreichst uns telefonisch unter 030 1234567, Mo–Fr. /Melanie", []),
    ("da", "Ring til os på telefon 33 12 34 56", []),
    ("da", "Vi bor i Aarhus 8000", []),
    ("de", "Ich wohne in Berlin 12 Jahre schon", []),
    ("da", "Jeg bor på Fyn og har 3 børn", []),
]

# Swedbank writes its clearing number with a check digit; code and account belong together.
POSITIVE += [
    (
        "sv",
        "Mitt kontonummer är 8327-9, 123 456 789-0",
        [(T.BANK_ACCOUNT, "8327-9, 123 456 789-0")],
    ),
]

# Customer numbers, accounts, phones, addresses and IDs in yet other words.
POSITIVE += [
    ("da", "Mit kunde-nr. er 4455667, kan I se på det?", [(T.CUSTOMER_NUMBER, "4455667")]),
    (
        "da",
        "Hej Lone, jeg kan se på din konto med kundenummer 55443322 at regningen er betalt. /Jonas",
        [(T.CUSTOMER_NUMBER, "55443322")],
    ),
    ("da", "Mit medlemsnr. hos jer er 123456", [(T.CUSTOMER_NUMBER, "123456")]),
    (
        "de",
        "Unter meiner Kundennummer 12 345 678 finden Sie alles",
        [(T.CUSTOMER_NUMBER, "12 345 678")],
    ),
    ("de", "Versicherungsschein-Nr. 5550123456", [(T.CUSTOMER_NUMBER, "5550123456")]),
    ("de", "Meine Mitgliedsnummer lautet 778899", [(T.CUSTOMER_NUMBER, "778899")]),
    ("fi", "Asiakasnumeroni: 445566-12", [(T.CUSTOMER_NUMBER, "445566-12")]),
    ("fi", "Vakuutukseni numero on 1234567", [(T.CUSTOMER_NUMBER, "1234567")]),
    ("sv", "Mitt kund-nr: 7788990", [(T.CUSTOMER_NUMBER, "7788990")]),
    ("sv", "Försäkringsnumret är 4455667788", [(T.CUSTOMER_NUMBER, "4455667788")]),
    ("nb", "Kundenummeret er 33445566 og avtalen gjelder mobil", [(T.CUSTOMER_NUMBER, "33445566")]),
    ("en", "My customer ID is 55667788", [(T.CUSTOMER_NUMBER, "55667788")]),
    ("en", "Policy no. 99887766 - claim still open", [(T.CUSTOMER_NUMBER, "99887766")]),
    ("en", "Acct #12345678 was charged twice", [(T.CUSTOMER_NUMBER, "12345678")]),
    (
        "da",
        "Udbetal venligst til reg.nr. 9570 kontonr. 0012345678",
        [(T.BANK_ACCOUNT, "0012345678")],
    ),
    ("da", "Min bankkonto er 9570-0012345678", [(T.BANK_ACCOUNT, "9570-0012345678")]),
    (
        "de",
        "Kontonummer 0123456789 bei der Sparkasse, BLZ 37050198",
        [(T.BANK_ACCOUNT, "0123456789")],
    ),
    ("sv", "Kontonummer: 1234 567 890 1 hos Nordea", [(T.BANK_ACCOUNT, "1234 567 890 1")]),
    ("sv", "Sätt in pengarna på clearing 8327 konto 1234567", [(T.BANK_ACCOUNT, "1234567")]),
    ("nb", "Pengene kan settes inn på 1503 27 60012", [(T.BANK_ACCOUNT, "1503 27 60012")]),
    ("en", "My account is 20-45-67 12345678 at Barclays", [(T.BANK_ACCOUNT, "20-45-67 12345678")]),
    ("da", "Mobil: 28 45 19 73", [(T.PHONE_NUMBER, "28 45 19 73")]),
    ("da", "Mit mobilnummer er 28451973, ring gerne", [(T.PHONE_NUMBER, "28451973")]),
    ("de", "Festnetz: 040 123456", [(T.PHONE_NUMBER, "040 123456")]),
    ("de", "Bitte um Rückruf unter 0151 23456789", [(T.PHONE_NUMBER, "0151 23456789")]),
    ("fi", "Puhelinnumeroni on +358401234567", [(T.PHONE_NUMBER, "+358401234567")]),
    ("sv", "Ring mig på 0701234567 efter lunch", [(T.PHONE_NUMBER, "0701234567")]),
    ("nb", "Ring meg på 41234567", [(T.PHONE_NUMBER, "41234567")]),
    ("en", "Call me at 07911 123456 tomorrow", [(T.PHONE_NUMBER, "07911 123456")]),
    (
        "da",
        "Send det til Algade 12 st. tv., 4000 Roskilde",
        [(T.POSTAL_ADDRESS, "Algade 12 st. tv., 4000 Roskilde")],
    ),
    (
        "de",
        "Lieferung bitte an Bahnhofstr. 5, 80335 München",
        [(T.POSTAL_ADDRESS, "Bahnhofstr. 5, 80335 München")],
    ),
    (
        "fi",
        "Toimitus osoitteeseen Rantakatu 7 B 12, 90100 Oulu",
        [(T.POSTAL_ADDRESS, "Rantakatu 7 B 12, 90100 Oulu")],
    ),
    (
        "sv",
        "Skicka till Vasagatan 3, 411 24 Göteborg",
        [(T.POSTAL_ADDRESS, "Vasagatan 3, 411 24 Göteborg")],
    ),
    (
        "nb",
        "Send til Kongens gate 5, 7011 Trondheim",
        [(T.POSTAL_ADDRESS, "Kongens gate 5, 7011 Trondheim")],
    ),
    (
        "en",
        "Ship it to 12 Oak Avenue, Leeds LS1 4AB",
        [(T.POSTAL_ADDRESS, "12 Oak Avenue, Leeds LS1 4AB")],
    ),
    (
        "en",
        "Our new place: 1234 Elm Street, Springfield, IL 62704",
        [(T.POSTAL_ADDRESS, "1234 Elm Street, Springfield, IL 62704")],
    ),
    (
        "da",
        "Teknikeren kom aldrig til Skovvej 3,\n8600 Silkeborg",
        [(T.POSTAL_ADDRESS, "Skovvej 3,\n8600 Silkeborg")],
    ),
    ("da", "CPR-nr.: 120390-1234", [(T.DK_CPR, "120390-1234")]),
    ("sv", "Personnr: 19811218-9876", [(T.SE_PERSONNUMMER, "19811218-9876")]),
    ("nb", "Personnummer: 01010150155", [(T.NO_FODSELSNUMMER, "01010150155")]),
    ("fi", "Sotu: 131052-308T", [(T.FI_HETU, "131052-308T")]),
    ("de", "IdNr 86095742719", [(T.DE_TAX_ID, "86095742719")]),
]

# The company's numbers in agents' signatures, and more numbers that identify nobody.
NEGATIVE += [
    ("da", "Hej Sofie, du kan altid kontakte os på 33 12 34 56 hverdage 8-20. /Jens", []),
    ("da", "Vores kundeservice har nummer 33 12 34 56 og åbner kl. 8.00", []),
    ("da", "Prisen steg fra 199 kr. til 249 kr. pr. måned fra 1. januar 2025", []),
    ("da", "Toget 1234 fra København H kl. 07.42 var 35 min. forsinket", []),
    ("da", "Jeg har ventet på pakke 1234567890123 i 14 dage", []),
    ("da", "Version 12.4.1 af appen crasher på iPhone 14", []),
    ("da", "Jeg har haft 3 forskellige teknikere ude siden 2021", []),
    ("da", "Fakturaen med nummer 123456789 er forkert", []),
    ("da", "Min mor på 82 år kan ikke finde ud af appen", []),
    ("da", "Bestillingsnummer 998877665 er ikke leveret", []),
    ("de", "Hallo Petra, erreichbar sind wir unter 030 2345678 (Mo–Fr 8–18 Uhr). Gruß, Tim", []),
    ("de", "Unsere Servicenummer 0180 6 123456 kostet 20 ct pro Anruf", []),
    ("de", "Ich zahle seit 2019 monatlich 44,99 Euro und bekomme 16 statt 100 Mbit", []),
    ("de", "Zug ICE 1234 hatte 95 Minuten Verspätung", []),
    ("de", "Die Störungsnummer 12345678 wurde mir genannt", []),
    ("de", "Auftrag 20240123 wurde storniert", []),
    ("de", "Meine Rechnung Nr. 5566778899 ist doppelt", []),
    ("fi", "Hei Matti, asiakaspalvelumme palvelee numerossa 010 123 4567 arkisin. /Anni", []),
    ("fi", "Junani 123 oli 45 minuuttia myöhässä", []),
    ("fi", "Lasku 123456789 erääntyy 15.3.2025", []),
    ("fi", "Tilasin 2 kpl ja sain 1", []),
    ("sv", "Hej Anna, du når oss på 0771-123 456 vardagar. /Erik", []),
    ("sv", "Tåg 432 från Malmö var 40 minuter försenat", []),
    ("sv", "Ordern 998877 har inte kommit", []),
    ("sv", "Jag betalar 399 kr/mån för 250/250", []),
    ("nb", "Hei Kari, ring oss gjerne på 22 12 34 56 hverdager 8–16. Hilsen Ola", []),
    ("nb", "Toget 1234 var 25 minutter forsinket", []),
    ("nb", "Fakturaen på 1 299 kr er feil", []),
    ("nb", "Saksnummeret mitt er 4455667", []),
    ("en", "Hi Tom, please call our team on 020 7946 0000, Mon-Fri 9-5. Thanks, Sue", []),
    ("en", "Train 1234 was 45 minutes late and cost me £45.50", []),
    ("en", "I've been a customer since 2009 and paid 12 x £29.99", []),
    ("en", "Invoice no. 55667788 is wrong", []),
    ("en", "Our tracking ref is 1Z 999 AA1 01 2345 6784", []),
    ("en", "Reference: 2023-11-456789", []),
    ("en", "Case 00123456 still not resolved after 3 weeks", []),
]

# "at" between words is usually prose.
POSITIVE += [
    ("en", "write to anna82 at gmail.com", [(T.EMAIL_ADDRESS, "anna82 at gmail.com")]),
    ("en", "anna.jensen at gmail.com is mine", [(T.EMAIL_ADDRESS, "anna.jensen at gmail.com")]),
]
NEGATIVE += [
    ("en", "look at this.com offer, it is cheaper", []),
    ("en", "I looked at lakeside.co.uk/help and found nothing", []),
    ("en", "meet me at gmail.com office", []),
]
NEGATIVE += [
    ("da", "Se telnet.dk/hjaelp/12345678 og app.telnet.dk/?id=22334455", []),
]

# Values split over a line break.
POSITIVE += [
    ("da", "Mit CPR er 010190-\n1234 tak", [(T.DK_CPR, "010190-\n1234")]),
    ("da", "IBAN: DK50 0040 0440\n1162 43 tak", [(T.IBAN, "DK50 0040 0440\n1162 43")]),
    ("da", "tlf. +45 22 33\n44 55", [(T.PHONE_NUMBER, "+45 22 33\n44 55")]),
    ("de", "Steuer-ID 86 095\n742 719", [(T.DE_TAX_ID, "86 095\n742 719")]),
]
