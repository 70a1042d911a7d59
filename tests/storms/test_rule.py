"""The storm rule, pure: the Poisson tail, start and end thresholds, the baseline."""

from __future__ import annotations

import math

import pytest

from service.storms import rule


def exact_tail(n: int, mu: float) -> float:
    return 1.0 - sum(math.exp(-mu) * mu**k / math.factorial(k) for k in range(n))


@pytest.mark.parametrize(
    ("n", "mu"), [(0, 2.0), (1, 2.0), (3, 2.0), (5, 0.5), (30, 25.0), (12, 0.5)]
)
def test_poisson_tail_matches_the_definition(n: int, mu: float) -> None:
    assert rule.poisson_tail(n, mu) == pytest.approx(exact_tail(n, mu), rel=1e-9, abs=1e-15)


def test_poisson_tail_far_in_the_tail_is_not_zero() -> None:
    tiny = rule.poisson_tail(150, 0.5)
    assert 0.0 < tiny < 1e-200


def test_a_quiet_page_needs_the_minimum_count() -> None:
    mu = rule.FLOOR_PER_MINUTE * rule.WINDOW_MINUTES  # 0.5 comments in 5 minutes
    assert not rule.is_hot(rule.MIN_COUNT - 1, mu)
    assert rule.is_hot(rule.MIN_COUNT, mu)


def test_a_busy_page_needs_three_times_its_baseline() -> None:
    mu = 25 * rule.WINDOW_MINUTES  # 25 a minute: 125 expected
    assert not rule.is_hot(200, mu)  # significant, but not a storm's size
    assert rule.is_hot(380, mu)


def test_hysteresis_stays_below_the_start() -> None:
    mu = 10.0
    assert not rule.is_hot(25, mu) and rule.is_elevated(25, mu)
    assert not rule.is_elevated(14, mu)
    assert rule.is_elevated(6, 0.5) and not rule.is_elevated(5, 0.5)


def test_baseline_median_of_weeks_then_trailing_then_floor() -> None:
    # Last week's storm (3,000 in the hour) does not raise this week's baseline.
    assert rule.baseline_per_minute([120, 3000, 180, None], None) == 3.0
    assert rule.baseline_per_minute([None] * 4, (240, 120.0)) == 2.0
    # Under an hour of history: the floor.
    assert rule.baseline_per_minute([None] * 4, (50, 30.0)) == rule.FLOOR_PER_MINUTE
    assert rule.baseline_per_minute([0, 0], None) == rule.FLOOR_PER_MINUTE
