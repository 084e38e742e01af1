"""The mask decision that leans to safety, and the pooling of frames before it."""

import pytest

from station.mask_rule import INCORRECT, WITH_MASK, WITH_MASK_MIN, WITHOUT_MASK, decide, pool


@pytest.mark.parametrize(
    ("probabilities", "with_mask_min", "expected"),
    [
        # a clear mask
        ((0.9, 0.05, 0.05), WITH_MASK_MIN, WITH_MASK),
        # masked exactly as likely as not: masked
        ((0.5, 0.3, 0.2), WITH_MASK_MIN, WITH_MASK),
        # most probable is with_mask, but less likely than not: the likelier of the other two
        ((0.45, 0.35, 0.2), WITH_MASK_MIN, WITHOUT_MASK),
        # the same doubt, the rest leaning to a mask below the nose
        ((0.45, 0.15, 0.4), WITH_MASK_MIN, INCORRECT),
        # no mask and below the nose equally likely: no mask (its own, stricter message)
        ((0.2, 0.4, 0.4), WITH_MASK_MIN, WITHOUT_MASK),
        # a clear bare face
        ((0.05, 0.9, 0.05), WITH_MASK_MIN, WITHOUT_MASK),
        # 0: the most probable class, as before
        ((0.45, 0.35, 0.2), 0.0, WITH_MASK),
        # a stricter site: 0.7 needed
        ((0.65, 0.3, 0.05), 0.7, WITHOUT_MASK),
        # however low the bar, with_mask must still be the most probable
        ((0.3, 0.6, 0.1), 0.2, WITHOUT_MASK),
    ],
)
def test_decide(probabilities, with_mask_min, expected):
    assert decide(probabilities, with_mask_min) == expected


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # one frame is itself
        ([(0.6, 0.3, 0.1)], (0.6, 0.3, 0.1)),
        # the mean, class by class
        ([(1.0, 0.0, 0.0), (0.0, 1.0, 0.0)], (0.5, 0.5, 0.0)),
        # three weak masks and two sure bare faces: the bare faces weigh more than their count
        ([(0.55, 0.4, 0.05)] * 3 + [(0.02, 0.96, 0.02)] * 2, (0.338, 0.624, 0.038)),
    ],
)
def test_pool_is_the_mean(rows, expected):
    assert pool(rows) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        # nothing to pool
        (lambda: pool([]), "nothing to pool"),
        # a row of two
        (lambda: pool([(0.5, 0.5)]), "three probabilities"),
        # a decision on two numbers
        (lambda: decide((0.5, 0.5)), "three probabilities"),
    ],
)
def test_bad_rows_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()
