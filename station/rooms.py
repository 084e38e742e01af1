"""The room rules both sides apply: the limit, near and full, in exact arithmetic.

The station and the dashboard import this one module, so they can never disagree about a room: the
share is read as the decimal it is written as (``0.3335`` is 3335/10000, not the float nearest to it),
kept in parts per million, and the limit is floor(capacity x share) computed in integers. So
1000 x 0.3335 is 333 and 10 x 0.0995 is 0 on both sides. Near is from ceil(limit x near_share).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction

#: A share is kept as a whole number of millionths (0.5 is 500000).
PPM = 1_000_000


class RoomState(StrEnum):
    """A room's traffic light against its limit."""

    OPEN = "open"
    NEAR = "near"
    FULL = "full"


class ShareError(ValueError):
    """A share that is not a decimal in (0, 1] with at most six places.

    Its message is ``template % params``; the dashboard translates ``template`` (its catalogues hold
    each one).
    """

    def __init__(self, template: str, **params: object) -> None:
        self.template = template
        self.params = params
        super().__init__(template % params)


def share_ppm(share: float | str | Decimal | Fraction) -> int:
    """Return ``share`` in parts per million, exactly as it is written.

    A float is read through its shortest decimal form (``0.3335`` is 333500), so what a person typed
    is what counts.

    Raises:
        ShareError: Not a number, outside (0, 1], or finer than a millionth.
    """
    try:
        exact = share if isinstance(share, Fraction) else Fraction(Decimal(str(share).strip()))
    except (InvalidOperation, ValueError, OverflowError):
        raise ShareError(
            "share must be a number more than 0 and at most 1, got %(share)s", share=repr(str(share)[:32])
        ) from None
    if not 0 < exact <= 1:
        raise ShareError("share must be more than 0 and at most 1, got %(share)s", share=share)
    ppm = exact * PPM
    if ppm.denominator != 1:
        raise ShareError("share must have at most six decimal places, got %(share)s", share=share)
    return int(ppm)


def share_text(ppm: int) -> str:
    """Return a share kept in parts per million as its shortest decimal (333500 -> ``"0.3335"``)."""
    text = format(Decimal(ppm) / PPM, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def limit_from_ppm(capacity_people: int, ppm: int) -> int:
    """Return floor(capacity x share) for a share in parts per million."""
    if capacity_people < 0 or not 0 < ppm <= PPM:
        raise ValueError("capacity must be >= 0 and the share in (0, 1]")
    return capacity_people * ppm // PPM


def room_limit(capacity_people: int, share: float | str | Decimal) -> int:
    """Return floor(capacity x share), the most people allowed in at once (exact decimal arithmetic)."""
    return limit_from_ppm(capacity_people, share_ppm(share))


def near_from(limit_people: int, near_share: float) -> int:
    """Return the count from which a room of ``limit_people`` is near: ceil(limit x near_share)."""
    threshold = Fraction(Decimal(str(near_share))) * limit_people
    return -(-threshold.numerator // threshold.denominator)


def room_state(occupancy_people: int, limit_people: int, near_share: float) -> RoomState:
    """Return FULL at or over the limit, NEAR from ceil(limit x near_share), else OPEN."""
    if occupancy_people >= limit_people:
        return RoomState.FULL
    if occupancy_people >= near_from(limit_people, near_share):
        return RoomState.NEAR
    return RoomState.OPEN


#: A correction moving the count by more than this needs confirmation (a second tap, ``"confirm"``).
CONFIRM_JUMP_PEOPLE = 10


def needs_confirmation(current_people: int, target_people: int, capacity_people: int) -> bool:
    """Whether a correction from ``current_people`` to ``target_people`` must be confirmed first.

    It must when the count would go above the room's capacity, or move by more than
    ``CONFIRM_JUMP_PEOPLE`` at once: a slip of the finger (999 for 9) is then asked about, not taken.
    """
    return target_people > capacity_people or abs(target_people - current_people) > CONFIRM_JUMP_PEOPLE


def over_limit(occupancy_people: int, limit_people: int) -> bool:
    """Whether more people are inside than the limit allows (the over-limit alert's condition)."""
    return occupancy_people > limit_people
