"""Words, not codes: messages that keep their template for translation, and labels for stored codes.

A ``MessageError`` is a ``ValueError`` whose English text (the command line's) is its template filled in;
a page shows ``translated(err)``, the same template looked up in the user's catalogue. Stored codes
(alert kinds, decisions, masks, reasons, roles, states, devices, audit actions) are catalogue
entries of their own (``i18n.DATA_MESSAGES``); ``describe_alert`` reads an alert's stored detail
(``"incorrect, deny"``, ``"3 inside, limit 2"``) into the user's words.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext

from dashboard.i18n import DATA_MESSAGES, _n


class MessageError(ValueError):
    """A message for a person, translatable: ``MessageError(_n("no room %(room)s"), room="'aula'")``."""

    def __init__(self, template: str, **params: Any) -> None:
        self.template = template
        self.params = params
        super().__init__(template % params if params else template)


def translated(err: BaseException) -> str:
    """The message of ``err`` in the user's language (a ``MessageError``'s template, else its text)."""
    if isinstance(err, MessageError):
        return gettext(err.template, **err.params) if err.params else gettext(err.template)
    return str(err)


KNOWN_CODES = frozenset(DATA_MESSAGES)


def label(code: object) -> str:
    """The user's word for a stored code; an unknown code is shown as it is (and tests catch it)."""
    text = "" if code is None else str(code)
    return gettext(text) if text in KNOWN_CODES else text


_INSIDE = re.compile(r"(?P<inside>\d+) inside, limit (?P<limit>\d+)")
_SILENT = re.compile(r"silent for (?P<seconds>\d+) s")


def duration(seconds: int) -> str:
    """A span in the largest unit that reads well: ``45 s``, ``12 min``, ``3 h 5 min``."""
    if seconds < 120:
        return gettext("%(n)s s", n=seconds)
    if seconds < 3600:
        return gettext("%(n)s min", n=seconds // 60)
    return gettext("%(h)s h %(m)s min", h=seconds // 3600, m=seconds % 3600 // 60)


def describe_alert(kind: str, detail: str) -> str:
    """An alert's stored detail in the user's words (codes labelled, sentences translated)."""
    if match := _INSIDE.fullmatch(detail):
        return gettext("%(inside)s inside, limit %(limit)s", **match.groupdict())
    if match := _SILENT.fullmatch(detail):
        return gettext("silent for %(duration)s", duration=duration(int(match["seconds"])))
    if kind in ("fever", "fever_retest", "no_mask"):
        return ", ".join(label(part) for part in detail.split(", "))
    return detail


ERROR_TITLES = {
    400: _n("Bad request"),
    401: _n("Please log in"),
    403: _n("Not allowed"),
    404: _n("Not found"),
    405: _n("Not possible here"),
    413: _n("Too large"),
    429: _n("Too many requests"),
    500: _n("Internal error"),
    503: _n("Unavailable"),
}
ERROR_TEXTS = {
    400: _n("The request could not be understood; check the form and try again."),
    401: _n("Log in to see this page."),
    403: _n("Your role may not open this page."),
    404: _n("There is no such page. Check the address, or start again from the overview."),
    405: _n("This address does not accept that kind of request."),
    413: _n("What was sent is too large."),
    429: _n("Too many requests; wait a moment and try again."),
    500: _n("Internal error; see the dashboard's log."),
    503: _n("The dashboard is unavailable for a moment; try again shortly."),
}
CSRF_EXPIRED = _n("The form has expired; reload the page and try again.")


def error_words(
    code: int, description: str | None, default: str | None, csrf: bool = False
) -> tuple[str, str]:
    """An error page's title and text in the user's words.

    Args:
        code: The HTTP status.
        description: The error's description: our own (already translated) or the library's.
        default: The library's default description for the error's class (never shown).
        csrf: Whether the error is a refused or expired form token (flask-wtf's English message).
    """
    title = gettext(ERROR_TITLES.get(code, ERROR_TITLES[400 if code < 500 else 500]))
    if csrf:
        return title, gettext(CSRF_EXPIRED)
    if not description or description == default:
        fallback = ERROR_TEXTS.get(code, ERROR_TEXTS[400 if code < 500 else 500])
        return title, gettext(fallback)
    return title, description
