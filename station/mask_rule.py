"""The mask decision, leaning to safety: one rule for a frame (``gerbang masks``) and for a visit (screening).

Pure Python, no OpenCV: the screening state machine uses it on the probabilities it pooled over frames, the
mask classifier on one frame's.
"""

from __future__ import annotations

from collections.abc import Sequence

#: Classes in the classifier's order: with_mask, without_mask, incorrect (worn below the nose).
WITH_MASK, WITHOUT_MASK, INCORRECT = 0, 1, 2

#: ``with_mask`` only when its probability is at least this (0.5: masked only when more likely than not).
WITH_MASK_MIN = 0.5


def decide(probabilities: Sequence[float], with_mask_min: float = WITH_MASK_MIN) -> int:
    """The class a row of probabilities decides, leaning to safety.

    ``with_mask`` only when it is the most probable class and its probability is at least
    ``with_mask_min``; otherwise the more likely of ``without_mask`` and ``incorrect`` (a tie goes to
    ``without_mask``). With ``with_mask_min`` 0 this is the most probable class.

    Args:
        probabilities: Three probabilities in the order with_mask, without_mask, incorrect.
        with_mask_min: See above.

    Returns:
        ``WITH_MASK``, ``WITHOUT_MASK`` or ``INCORRECT``.

    Raises:
        ValueError: When ``probabilities`` does not hold three numbers.
    """
    if len(probabilities) != 3:
        raise ValueError(f"expected three probabilities, got {len(probabilities)}")
    with_mask, without, incorrect = (float(p) for p in probabilities)
    if with_mask >= with_mask_min and with_mask >= max(without, incorrect):
        return WITH_MASK
    return WITHOUT_MASK if without >= incorrect else INCORRECT


def pool(rows: Sequence[Sequence[float]]) -> tuple[float, float, float]:
    """Pool several frames' probabilities into one row: their mean.

    Args:
        rows: One row of three probabilities per frame (at least one).

    Returns:
        The mean row.

    Raises:
        ValueError: When there is no row, or a row does not hold three numbers.
    """
    if not rows:
        raise ValueError("nothing to pool")
    if any(len(row) != 3 for row in rows):
        raise ValueError("every row needs three probabilities")
    with_mask, without, incorrect = (sum(float(row[i]) for row in rows) / len(rows) for i in range(3))
    return with_mask, without, incorrect
