"""The storm rule, pure: counts in, decisions out.

Every tick (15 s) the watcher counts a connection's customer comments made in the last
``WINDOW`` (5 minutes, sliding) and compares the count ``n`` with what the page's own baseline
expects in that time, ``mu = WINDOW_MINUTES * baseline_per_minute``:

- **Baseline**: the median, over the previous ``BASELINE_WEEKS`` weeks the page was counted in,
  of its comments in the hour centred on the same time of the week, per minute. The median keeps
  last week's storm out of this week's baseline. A page counted for less than a week uses its
  last 24 hours (at least an hour of them, never the storm in progress), and a page barely known
  the floor ``FLOOR_PER_MINUTE`` (6 an hour).
- **Start** (``is_hot``): ``n >= MIN_COUNT`` and ``n >= START_RATIO * mu`` and the Poisson tail
  ``P(X >= n | mu) < START_P``. The minimum count keeps a quiet page's three comments from being a
  storm; the ratio keeps a busy page's ordinary swings (real comment streams vary more than
  Poisson) from being one; the tail test keeps small expectations honest.
- **End** (hysteresis): the storm lasts while ``n >= max(MIN_COUNT / 2, STAY_RATIO * mu)``
  (``is_elevated``) and ends once that has not held for ``QUIET`` (10 minutes); its end is the
  last tick it held. The lower bar to stay than to start stops a storm that hovers at the
  threshold from flapping between started and ended.

A storm of 3,000 comments in an evening starts at tens a minute on a page that sees a few an
hour: with the 15-second tick it is detected within the first minute (tests/storms/).
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Sequence

WINDOW = dt.timedelta(minutes=5)
WINDOW_MINUTES = WINDOW.total_seconds() / 60
MIN_COUNT = 12
START_RATIO = 3.0
START_P = 1e-6
STAY_RATIO = 1.5
QUIET = dt.timedelta(minutes=10)
FLOOR_PER_MINUTE = 0.1
BASELINE_WEEKS = 4
# The hour of each earlier week compared with now: centred on the same time of the week.
BASELINE_SPAN = dt.timedelta(hours=1)
TRAILING = dt.timedelta(hours=24)
MIN_TRAILING = dt.timedelta(hours=1)


def poisson_tail(n: int, mu: float) -> float:
    """P(X >= n) for X ~ Poisson(mu), accurate far into the tail (summed in log space)."""
    if n <= 0:
        return 1.0
    if mu <= 0:
        return 0.0
    log_mu = math.log(mu)

    def term(k: int) -> float:
        return math.exp(-mu + k * log_mu - math.lgamma(k + 1))

    if n > mu:
        total, k = 0.0, n
        while True:
            t = term(k)
            total += t
            if t < total * 1e-16 or k > n + 100_000:
                return min(1.0, total)
            k += 1
    # Below the mean the tail is most of the mass: one minus the head.
    head = sum(term(k) for k in range(n))
    return max(0.0, 1.0 - head)


def is_hot(n: int, mu: float) -> bool:
    return n >= MIN_COUNT and n >= START_RATIO * mu and poisson_tail(n, mu) < START_P


def is_elevated(n: int, mu: float) -> bool:
    return n >= max(MIN_COUNT / 2, STAY_RATIO * mu)


def baseline_per_minute(
    weekly_counts: Sequence[int | None], trailing: tuple[int, float] | None
) -> float:
    """``weekly_counts``: comments in the baseline hour of each earlier week, None where the
    page was not counted yet; ``trailing``: (comments, minutes) of the trailing window."""
    covered = [c for c in weekly_counts if c is not None]
    span_minutes = BASELINE_SPAN.total_seconds() / 60
    if covered:
        rate = statistics.median(covered) / span_minutes
    elif trailing is not None and trailing[1] >= MIN_TRAILING.total_seconds() / 60:
        rate = trailing[0] / trailing[1]
    else:
        rate = 0.0
    return max(FLOOR_PER_MINUTE, rate)
