"""E-mail addresses, including the ways people spell them out to dodge filters.

``anna@gmail.com``, ``anna (at) gmail.com``, ``anna[at]gmail[dot]com``,
``anna dot jensen at gmail dot com``, ``anna snabel-a telia.com``: the search starts at
the "@" (or its spelled form) and reads the local part backwards and the domain forwards,
so the cost is one pass for the markers plus a bounded window per marker.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .candidate import Candidate
from .types import EntityType

#: "@", "(at)", "[snabel-a]", " at ": the bare word after white space is group 1 (matching
#: the space instead of looking behind for it, and spelling out the case variants instead of
#: IGNORECASE, halves the cost of the scan: it runs over every text with " at ").
_MARK = re.compile(
    r"@|[(\[{<] ?(?:[aA][tT]|[äÄ][tT]|[aA]|[sSſ][nN][aA][bB][eE][lL]-?[aA])\b ?[)\]}>]"
    r"|\s([aA][tT]|[äÄ][tT]|[sSſ][nN][aA][bB][eE][lL]-?[aA])(?=\s)"
)
_DOT_WORD = (
    r"(?:\s*[(\[{<] ?(?:dot|punkt|piste|prikk|punktum) ?[)\]}>]\s*"
    r"|\s+(?:dot|punkt|piste|prikk|punktum)\s+)"
)
_DOT_WORD_RE = re.compile(_DOT_WORD, re.IGNORECASE)
# The local part is read backwards from the "@": a match on the reversed text before it,
# anchored at the "@", costs no more than the local part's length.
_DOT_WORD_REVERSED = (
    r"(?:\s*[)\]}>] ?(?:tod|tknup|etsip|kkirp|mutknup) ?[(\[{<]\s*"
    r"|\s+(?:tod|tknup|etsip|kkirp|mutknup)\s+)"
)
_LOCAL_REVERSED = re.compile(rf"\s*[\w+-]+(?:(?:\.|{_DOT_WORD_REVERSED})[\w+-]+)*", re.IGNORECASE)
_DOMAIN = re.compile(
    rf"\s*(?:[^\W_](?:[\w-]{{0,62}}[^\W_])?(?:\.|{_DOT_WORD}))+(?P<tld>[a-z]{{2,12}})(?![\w-])",
    re.IGNORECASE,
)
#: Top-level domains a spelled-out address must end in (a literal "@" accepts any).
_TLDS = frozenset(
    [
        "com",
        "net",
        "org",
        "info",
        "biz",
        "eu",
        "io",
        "co",
        "uk",
        "dk",
        "de",
        "fi",
        "se",
        "no",
        "nu",
        "is",
        "ee",
        "at",
        "ch",
        "nl",
        "be",
        "fr",
        "it",
        "es",
        "pl",
        "us",
        "ca",
        "me",
        "tv",
        "app",
        "dev",
        "online",
        "email",
        "mail",
        "group",
        "ax",
        "gl",
        "fo",
        "lt",
        "lv",
    ]
)
_LOCAL_WINDOW = 80
#: A bare "at" between words is English prose unless the rest looks like an address.
_PLAIN_AT = frozenset(["at", "ät"])


def find_emails(text: str) -> Iterator[Candidate]:
    """E-mail addresses in ``text``, spelled-out ones as one span."""
    for mark in _MARK.finditer(text):
        group = mark.lastindex or 0
        start, end = mark.span(group)
        word = mark.group(group)
        literal = word == "@"
        domain = _DOMAIN.match(text, end)
        if domain is None:
            continue
        if not literal and domain.group("tld").lower() not in _TLDS:
            continue
        window_start = max(0, start - _LOCAL_WINDOW)
        local = _LOCAL_REVERSED.match(text[window_start:start][::-1])
        if local is None or not local.group().strip():
            continue
        local_text = local.group()[::-1].rstrip()
        value_start = start - local.end()
        local_norm = _DOT_WORD_RE.sub(".", local_text).strip(".")
        domain_text = domain.group().lstrip()
        domain_norm = _DOT_WORD_RE.sub(".", domain_text)
        if not literal:
            if text[domain.end() : domain.end() + 1] == "/":
                continue  # "look at telnet.dk/help": a web address
            spelled_dot = domain_norm != domain_text or local_norm != local_text.strip(".")
            if word.strip().lower() in _PLAIN_AT and not (
                spelled_dot or any(ch in local_norm for ch in "._") or not local_norm.isalpha()
            ):
                continue  # "look at this.com", "me at gmail.com": words, not an address
        if not local_norm or ".." in local_norm or ".." in domain_norm:
            continue
        score = 0.97 if literal else 0.9
        yield Candidate(
            EntityType.EMAIL_ADDRESS,
            value_start,
            domain.end(),
            score,
            f"{local_norm}@{domain_norm}".lower(),
        )
