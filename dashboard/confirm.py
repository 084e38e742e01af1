"""Ask before a destructive action: the first POST shows what will happen, a second one does it.

A form that revokes, rotates or disables posts once without ``confirm``: the view answers with
``confirm.html`` (200) and changes nothing. Its Confirm button posts the same fields again with
``confirm=yes``; Cancel goes back. No JavaScript is needed.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import render_template, request
from flask.typing import ResponseReturnValue

#: The form field (and its value) of a confirmed request.
CONFIRM_FIELD = "confirm"
CONFIRM_VALUE = "yes"


def confirmed() -> bool:
    """Whether this request carries ``confirm=yes`` (the second, deciding POST)."""
    return request.form.get(CONFIRM_FIELD) == CONFIRM_VALUE


def ask(
    *,
    title: str,
    question: str,
    confirm_label: str,
    cancel_url: str,
    fields: Mapping[str, str] | None = None,
) -> ResponseReturnValue:
    """The confirmation page for the request being made (posted back to the same URL).

    Args:
        title: The page's heading (translated).
        question: What will happen, as a question (translated).
        confirm_label: The Confirm button's word, the action's own verb (translated).
        cancel_url: Where Cancel goes (the page the form was on).
        fields: Form fields to post again with the confirmation (a role, a language ...).
    """
    page = render_template(
        "confirm.html",
        title=title,
        question=question,
        confirm_label=confirm_label,
        cancel_url=cancel_url,
        action=request.path,
        fields=dict(fields or {}),
        confirm_field=CONFIRM_FIELD,
        confirm_value=CONFIRM_VALUE,
    )
    return page, 200
