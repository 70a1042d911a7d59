"""Property tests: generated valid values inside random text, and arbitrary input."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.detection import Detector
from service.detection import EntityType as T

from .values import FILLER, LANGS, TEMPLATES, VALUES, postal_address

DETECTOR = Detector()
_SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.filter_too_much]
)
_EMOJI = st.sampled_from(["", "", " 😡", " 🙏", "!", " #fail"])


def _filler(lang: str) -> st.SearchStrategy[str]:
    words = st.lists(st.sampled_from(FILLER[lang].split()), max_size=10).map(" ".join)
    return st.tuples(words, _EMOJI).map("".join)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", [*VALUES, T.POSTAL_ADDRESS])
@_SETTINGS
@given(data=st.data())
def test_valid_value_in_random_text_is_found_with_exact_offsets(
    kind: T, lang: str, data: st.DataObject
) -> None:
    strategy = postal_address(lang) if kind is T.POSTAL_ADDRESS else VALUES[kind]
    value = data.draw(strategy, label="value")
    before = data.draw(_filler(lang), label="before")
    after = data.draw(_filler(lang), label="after")
    head, tail = TEMPLATES[kind][lang].split("{v}")
    prefix = f"{before}\n{head}" if before else head
    text = f"{prefix}{value}{tail}. {after}"

    findings = DETECTOR.detect(text, lang=lang)

    start = len(prefix)
    assert any(
        f.type is kind and f.start == start and f.end == start + len(value) for f in findings
    ), (text, [(f.type, text[f.start : f.end]) for f in findings])


_DIGITISH = st.text(alphabet="0123456789 -./+()\n@abcATæø,:", max_size=300)


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(st.text(max_size=400), _DIGITISH), lang=st.sampled_from([None, *LANGS]))
def test_arbitrary_text_never_raises_and_offsets_slice_the_text(
    text: str, lang: str | None
) -> None:
    findings = DETECTOR.detect(text, lang=lang)

    previous_end = 0
    for finding in findings:
        assert previous_end <= finding.start < finding.end <= len(text)
        assert text[finding.start : finding.end] == text[finding.start : finding.end].strip()
        assert 0.0 <= finding.score <= 1.0
        assert finding.masked and finding.normalized
        previous_end = finding.end
