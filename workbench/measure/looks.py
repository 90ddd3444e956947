"""The schedule of sequential measurements: how many worker rounds a look adds, the time
budget a run of looks may spend, and the union-bound tails of ``compare``'s looks.

:func:`look_tail` is the union-bound split (alpha/2 at the first look, alpha/(2k(k-1)) at
look k) that ``compare``'s own looks use for its two-sided faster/slower question; budget
checks use the calibrated boundary of :mod:`workbench.budget.boundary` instead.
"""

from __future__ import annotations

import math

from workbench.errors import InvalidInputError

__all__ = ["DEFAULT_MAX_TIME", "ROUNDS_PER_LOOK", "check_max_time", "look_tail"]

#: Seconds a check may measure in all, first look included, unless told otherwise. Fitted
#: to the repository's own CI check (16 targets on ``tiny``): the first look takes about
#: 80 s there, so this leaves room for two more looks on the undecided targets.
DEFAULT_MAX_TIME = 240.0
ROUNDS_PER_LOOK = 2


def look_tail(look: int, alpha: float) -> float:
    """The one-sided error level look ``look`` (1-based) may spend out of ``alpha``."""
    if not isinstance(look, int) or look < 1:
        raise InvalidInputError(f"look must be an integer >= 1; got {look!r}")
    return alpha / 2 if look == 1 else alpha / (2 * look * (look - 1))


def check_max_time(value: object) -> float:
    """``value`` as a time budget in seconds (>= 0; 0 means a single look)."""
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or value < 0:
        raise InvalidInputError(f"max_time must be a number of seconds >= 0 (0: no extra "
                                f"looks); got {value!r}")
    return float(value)
