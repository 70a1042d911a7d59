"""The engine's public contract: types, limits, errors, tenant rules, masks, fingerprints."""

from __future__ import annotations

import threading

import pytest

from service.detection import (
    MAX_TEXT_CHARS,
    CustomPattern,
    Detector,
    EntityType,
    Finding,
    InvalidTextError,
    PatternError,
    TenantRules,
    TextTooLongError,
    fingerprint,
    guess_language,
)

T = EntityType


def _values(text: str, findings: list[Finding]) -> list[tuple[EntityType, str]]:
    return [(f.type, text[f.start : f.end]) for f in findings]


def test_empty_and_blank_text_give_no_findings() -> None:
    assert Detector().detect("") == []
    assert Detector().detect("   \n\t ") == []


def test_text_over_the_limit_is_refused_with_a_clear_error() -> None:
    detector = Detector()
    detector.detect("x" * MAX_TEXT_CHARS)
    with pytest.raises(TextTooLongError, match=str(MAX_TEXT_CHARS)):
        detector.detect("x" * (MAX_TEXT_CHARS + 1))


@pytest.mark.parametrize("bad", [None, b"bytes", 42, ["list"]])
def test_non_string_text_is_a_clear_error(bad: object) -> None:
    with pytest.raises(InvalidTextError, match="must be a string"):
        Detector().detect(bad)  # type: ignore[arg-type]


def test_lone_surrogates_are_a_clear_error() -> None:
    with pytest.raises(InvalidTextError, match="not valid Unicode"):
        Detector().detect("ring til mig på \ud800 22 33 44 55")


def test_finding_carries_type_offsets_score_mask_and_normalized_value() -> None:
    text = "Ring til mig på +45 22 33 44 78 eller skriv til anna.jensen@Gmail.com"
    phone, email = Detector().detect(text, lang="da")

    assert phone.type is T.PHONE_NUMBER
    assert text[phone.start : phone.end] == "+45 22 33 44 78"
    assert phone.masked == "+45 •• •• •• 78"
    assert phone.normalized == "+4522334478"
    assert 0.5 <= phone.score <= 1.0
    assert email.masked == "a•••@gmail.com"
    assert email.normalized == "anna.jensen@gmail.com"


def test_offsets_are_code_points_after_emoji_and_combining_characters() -> None:
    text = "😡😡 Tlf. 22 33 44 55 – ring tilbage 🙏"
    (phone,) = Detector().detect(text, lang="da")
    assert text[phone.start : phone.end] == "22 33 44 55"


def test_allowlisted_company_values_are_never_reported() -> None:
    rules = TenantRules(allowlist=["+45 33 12 34 56", "Vesterbrogade 1"])
    detector = Detector(rules)
    text = "Ring til mig på 33 12 34 56. Butikken på Vesterbrogade 1 var lukket"
    assert detector.detect(text, lang="da") == []
    other = "Ring til mig på 33 12 34 57. Jeg bor på Vesterbrogade 12"
    assert [f.type for f in detector.detect(other, lang="da")] == [
        T.PHONE_NUMBER,
        T.POSTAL_ADDRESS,
    ]


def test_custom_patterns_run_on_re2_and_find_tenant_formats() -> None:
    rules = TenantRules(
        custom_patterns=[
            CustomPattern(
                name="acme-kundenr", pattern=r"AC-\d{6}", type=T.CUSTOMER_NUMBER, score=0.9
            )
        ]
    )
    text = "Min reference er AC-123456 🙂 og ikke AC-12345"
    findings = Detector(rules).detect(text, lang="da")
    assert _values(text, findings) == [(T.CUSTOMER_NUMBER, "AC-123456")]
    assert findings[0].normalized == "AC123456"


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [(r"(a)\1", "invalid escape"), (r"(?=x)y", "invalid perl operator"), ("(", "missing")],
)
def test_a_pattern_re2_cannot_compile_is_rejected_naming_pattern_and_reason(
    pattern: str, reason: str
) -> None:
    spec = CustomPattern(name="bad-one", pattern=pattern)
    with pytest.raises(PatternError, match="bad-one") as error:
        TenantRules(custom_patterns=[spec])
    assert reason in str(error.value)


def test_a_pattern_matching_the_empty_string_is_rejected() -> None:
    with pytest.raises(PatternError, match="empty string"):
        TenantRules(custom_patterns=[CustomPattern(name="greedy", pattern=r"\d*")])


def test_fingerprint_is_keyed_and_ignores_how_the_value_was_written() -> None:
    detector = Detector()
    (a,) = detector.detect("Tlf. +45 22 33 44 55", lang="da")
    (b,) = detector.detect("ring til mig på 0045 22334455", lang="da")
    assert fingerprint(b"tenant-1", a) == fingerprint(b"tenant-1", b)
    assert fingerprint(b"tenant-1", a) != fingerprint(b"tenant-2", a)
    assert len(fingerprint(b"tenant-1", a)) == 64
    with pytest.raises(ValueError, match="key"):
        fingerprint(b"", a)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Hej, jeg har ikke haft internet i tre dage og ingen svarer på min mail", "da"),
        ("Hallo, ich habe seit drei Tagen kein Internet und niemand antwortet mir", "de"),
        ("Hei, minulla ei ole ollut nettiä kolmeen päivään eikä kukaan vastaa", "fi"),
        ("Hej, jag har inte haft internet på tre dagar och ingen svarar", "sv"),
        ("Hei, jeg har ikke hatt internett på tre dager og ingen svarer meg", "nb"),
        ("Hello, I have not had internet for three days and nobody answers my mail", "en"),
    ],
)
def test_guess_language(text: str, lang: str) -> None:
    assert guess_language(text) == lang


def test_guess_language_is_none_when_unsure() -> None:
    assert guess_language("👍") is None
    assert guess_language("12345") is None


def test_a_detector_is_safe_to_share_between_threads() -> None:
    detector = Detector()
    text = "CPR: 010190-1234, tlf. 22 33 44 55, kundenr. 12345678"
    expected = detector.detect(text, lang="da")
    results: list[list[Finding]] = []

    def work() -> None:
        for _ in range(200):
            results.append(detector.detect(text, lang="da"))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(result == expected for result in results)


def test_cost_is_linear_in_text_length_for_hostile_input() -> None:
    # Values glued into endless runs must not make the engine quadratic; these would take
    # minutes if it were.
    for chunk in ("1 ", "a@", "Vej 1 ", "12345678 ", "(at) ", "x.x@x.x "):
        text = (chunk * (MAX_TEXT_CHARS // len(chunk)))[:MAX_TEXT_CHARS]
        Detector().detect(text)


def test_allowlisted_digits_match_whole_numbers_not_fragments() -> None:
    detector = Detector(TenantRules(allowlist=["+45 70 10 20 30"]))
    text = "Mit kundenummer er 102030"
    assert _values(text, detector.detect(text, lang="da")) == [(T.CUSTOMER_NUMBER, "102030")]


def test_regions_are_hints_not_filters() -> None:
    text = "Ich bin unter 0171 2345678 erreichbar"
    (phone,) = Detector(regions=["DK"]).detect(text, lang="de")
    assert phone.normalized == "+491712345678"
