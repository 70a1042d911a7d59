"""Hand-written comments worded unlike the development corpus (see cases.py)."""

from __future__ import annotations

import pytest

from service.detection import Detector

from .cases import NEGATIVE, POSITIVE, Case

DETECTOR = Detector()


def _found(case: Case) -> list[tuple[str, str]]:
    lang, text, _ = case
    return sorted((f.type.value, text[f.start : f.end]) for f in DETECTOR.detect(text, lang=lang))


@pytest.mark.parametrize("case", POSITIVE, ids=lambda case: case[1][:40])
def test_personal_data_is_found(case: Case) -> None:
    assert _found(case) == sorted((kind.value, value) for kind, value in case[2])


@pytest.mark.parametrize("case", NEGATIVE, ids=lambda case: case[1][:40])
def test_hard_negatives_are_left_alone(case: Case) -> None:
    assert _found(case) == []
