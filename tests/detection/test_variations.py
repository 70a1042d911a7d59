"""Generalisation, tested by variation: every type's valid values, written the ways people
write them, in every language (:mod:`.variations`).

Must find: the value, with its exact span and type.  Must not find: anything else (the
words, amounts, dates, transaction numbers and hotlines around it are hard negatives).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.detection import Detector
from service.detection import EntityType as T

from .variations import LANGS, TYPES_BY_LANG, comment, negative_comment

DETECTOR = Detector()
_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)


@pytest.mark.parametrize(("kind", "lang"), TYPES_BY_LANG)
@_SETTINGS
@given(data=st.data())
def test_the_value_and_only_the_value_is_found(kind: T, lang: str, data: st.DataObject) -> None:
    case = data.draw(comment(kind, lang), label="comment")

    findings = DETECTOR.detect(case.text, lang=lang)

    found = [(f.type, case.text[f.start : f.end]) for f in findings]
    assert found == [(kind, case.value)], (case.text, found)


@pytest.mark.parametrize("lang", LANGS)
@_SETTINGS
@given(data=st.data())
def test_hard_negatives_alone_are_not_found(lang: str, data: st.DataObject) -> None:
    text = data.draw(negative_comment(lang), label="comment")

    findings = DETECTOR.detect(text, lang=lang)

    assert [(f.type, text[f.start : f.end]) for f in findings] == [], text
