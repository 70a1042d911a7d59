"""Masked excerpts keep neither the values found nor the names people give."""

from __future__ import annotations

import random

import pytest

from service.detection import Detector
from service.findings.excerpt import masked_excerpt, name_spans
from service.sandbox.seed import LANGS, generate_comment, make_person

DETECTOR = Detector()


def _excerpt(text: str, region: str = "DE") -> str:
    return masked_excerpt(text, DETECTOR.detect(text, region=region))


def test_the_issues_example_keeps_no_name_and_no_number() -> None:
    excerpt = _excerpt("Ich bin Sabine Falkenrath, erreichbar unter 0171 2345678.")
    assert "Sabine" not in excerpt and "Falkenrath" not in excerpt
    assert excerpt.startswith("Ich bin S••• F•••, erreichbar unter ")
    assert "2345678" not in excerpt


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Hej, det er Jens Kjærgaard. Ring på 40 52 37 46.", ["Jens", "Kjærgaard"]),
        ("Jag heter Karin Sjöholm, nås på 070-123 45 67.", ["Karin", "Sjöholm"]),
        ("Olen Aino Kivimäki, puh 040 123 4567.", ["Aino", "Kivimäki"]),
        ("Dette er Kari Haugland, tlf 912 34 567.", ["Kari", "Haugland"]),
        ("It's Emma Ashworth, reach me on 07700 900123.", ["Emma", "Ashworth"]),
        ("My name is Oliver. Call 07700 900123.", ["Oliver"]),
        ("Ring mig på 40 52 37 46\nMvh\nLine Bækgaard", ["Line", "Bækgaard"]),
        ("Bitte um Rückruf. Mit freundlichen Grüßen, Anna von Mahlmann", ["Anna", "Mahlmann"]),
        ("Regards, Rachel Johnson", ["Rachel", "Johnson"]),
        ("Jeg hedder Anne-Mette og mit nummer er 40 52 37 46", ["Anne-Mette"]),
    ],
)
def test_names_after_an_introduction_or_a_signature_are_masked(text: str, names: list[str]) -> None:
    assert [text[s:e] for s, e in name_spans(text)] == names
    excerpt = masked_excerpt(text, [])
    for name in names:
        assert name not in excerpt
        assert f"{name[0]}•••" in excerpt


@pytest.mark.parametrize(
    "text",
    [
        "Ich bin Kunde seit 2010 und warte auf Rückruf.",  # a noun, not a name
        "Ich bin unter 0171 2345678 erreichbar.",
        "Jeg er Telia-kunde og har ventet en uge.",
        "Grüße aus Berlin",
        "I am waiting for the Engineer since Friday.",
    ],
)
def test_ordinary_words_after_a_cue_are_left_alone(text: str) -> None:
    assert name_spans(text) == []


def test_the_excerpt_still_centres_on_the_finding_not_on_a_name() -> None:
    text = "Mvh Line Bækgaard. " + "Lang historie om min regning. " * 20 + "Ring 40 52 37 46."
    excerpt = _excerpt(text, region="DK")
    assert "•• •• •• 46" in excerpt and excerpt.startswith("…")


def test_no_seeded_demo_comment_keeps_its_authors_name() -> None:
    """The sandbox's demo comments that give their author's name (every language)."""
    rng = random.Random(7)
    checked = 0
    for _ in range(400):
        lang = rng.choice(LANGS)
        name = make_person(rng, lang)
        text, _ = generate_comment(rng, lang, personal=True, name=name)
        if name not in text:
            continue
        checked += 1
        excerpt = masked_excerpt(text, DETECTOR.detect(text, region=None))
        assert all(part not in excerpt for part in name.split()), (text, excerpt)
    assert checked >= 20
