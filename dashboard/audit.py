"""The audit log: who changed what."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from dashboard.models import AuditEntry

log = logging.getLogger(__name__)


def record(session: Session, actor: str, action: str, detail: str = "") -> None:
    """Add an audit entry in the caller's transaction, and log it."""
    session.add(AuditEntry(actor=actor, action=action, detail=detail))
    log.info("audit: %s %s %s", actor, action, detail)
