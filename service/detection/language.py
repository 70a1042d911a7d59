"""A cheap guess of a comment's language from stop words and letters."""

from __future__ import annotations

import re


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_STOPWORDS: dict[str, frozenset[str]] = {
    # Common words, weighted towards those the other five languages do not share.
    "da": _word_set(
        "og jeg er det at en til på ikke har med af som mit min jer i hvad hvorfor kan vil "
        "skal der den de hej tak venlig hilsen igen nu også mig fra blev bliver siden "
        "hvis så meget jeres kundeservice ringede fik vide herinde drejer sig skete nogen "
        "hvornår hvordan jeres gange dage kunde været nede stadig ingen noget fået lige "
        "bare ved godt mere end efter"
    ),
    "nb": _word_set(
        "og jeg er det at en til på ikke har med av som mitt min dere hva hvorfor kan vil "
        "skal den de hei takk vennlig hilsen igjen nå også meg fra ble blir siden hvis så "
        "mye deres kundeservice ringte fikk beskjed her hvordan noen å vært fortsatt venter "
        "bli ganger dager kunde nede ingen noe fått bare mer enn etter ikkje hvorfor "
        "kundeservicen"
    ),
    "sv": _word_set(
        "och jag är det att en till på inte har med av som mitt min er vad varför kan vill "
        "ska den de hej tack vänliga hälsningar igen nu också mig från blev blir sedan om "
        "så mycket ert kundtjänst ringde fick höra här hur någon ett svarat dig meddelande "
        "privat gånger dagar kund varit fortfarande ingen något fått bara mer än efter "
        "inget finns"
    ),
    "de": _word_set(
        "und ich ist das die der nicht ein eine mit von zu auf für es wir ihr euch mein "
        "meine habe hat sind was warum kann bitte danke hallo grüße seit schon noch immer "
        "aber auch mir mich wurde wird euer eure den dem zum zur bei"
    ),
    "fi": _word_set(
        "ja on ei se että olen oli minä mutta kun niin nyt jo vielä miksi mitä tämä "
        "hei kiitos terveisin numeroon teille teidän minun minulle ole asiakaspalvelu "
        "onko siellä ketään lähtien moi taas sama ongelma kertaa päivää"
    ),
    "en": _word_set(
        "and the is it to a of in for my you your i not have has with on this that was "
        "why what can please thanks hello hi regards been still again me from are"
    ),
}
_LETTER_HINTS: dict[str, str] = {
    "æ": "da nb",
    "ø": "da nb",
    "å": "da nb sv",
    "ä": "sv fi de",
    "ö": "sv fi de",
    "ü": "de",
    "ß": "de",
}
_WORD = re.compile(r"[^\W\d_]+")


def guess_language(text: str) -> str | None:
    """One of ``da``, ``de``, ``fi``, ``sv``, ``nb``, ``en``; None when unsure."""
    scores = dict.fromkeys(_STOPWORDS, 0.0)
    words = _WORD.findall(text.lower())
    if not words:
        return None
    for word in words:
        for lang, stopwords in _STOPWORDS.items():
            if word in stopwords:
                scores[lang] += 1.0
    for letter, langs in _LETTER_HINTS.items():
        if letter in text.lower():
            for lang in langs.split():
                scores[lang] += 0.5
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    (best, top), (_, second) = ranked[0], ranked[1]
    if top < 1.0 or top - second < 1.0:
        return None
    return best
