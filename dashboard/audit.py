"""The audit log: who changed what."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from dashboard.models import AuditEntry

log = logging.getLogger(__name__)


def record(session: Session, actor: str, action: str, detail: str = "", room_id: int | None = None) -> None:
    """Add an audit entry in the caller's transaction, and log it.

    Args:
        session: The caller's session (it commits).
        actor: Who did it.
        action: What, in one word (``override``, ``correction``, ``update-room`` ...).
        detail: The particulars.
        room_id: The room it is about, if any: supervisors see the entries of their sites' rooms.
    """
    session.add(AuditEntry(actor=actor, action=action, detail=detail, room_id=room_id))
    log.info("audit: %s %s %s", actor, action, detail)
