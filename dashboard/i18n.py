"""Bahasa Indonesia and English, chosen per user.

The catalogues ship as ``.po`` text; ``init_app`` compiles them into ``instance/translations`` when
the ``.mo`` is missing or older, so a fresh clone works without a build step.
"""

from __future__ import annotations

import os
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request
from flask_babel import Babel, get_locale
from flask_login import current_user

SOURCE_DIR = Path(__file__).parent / "translations"
LOCALES = ("id", "en")


def _n(message: str) -> str:
    """Mark a message for extraction that templates translate from data (``_(alert.kind)``)."""
    return message


# Words the pages translate from stored values: states, alert kinds, decisions, roles, masks ...
# Each has an entry in both catalogues: English pages show "no mask", never ``no_mask``.
DATA_MESSAGES = (
    _n("open"),
    _n("near"),
    _n("full"),
    _n("fever"),
    _n("fever_retest"),
    _n("no_mask"),
    _n("over_limit"),
    _n("station_silent"),
    _n("events_set_aside"),
    _n("allow"),
    _n("deny"),
    _n("retest"),
    _n("guard"),
    _n("supervisor"),
    _n("admin"),
    _n("in"),
    _n("out"),
    _n("with_mask"),
    _n("without_mask"),
    _n("incorrect"),
    # alert severities
    _n("high"),
    _n("medium"),
    _n("low"),
    # screening reasons
    _n("ok"),
    _n("mask_below_nose"),
    # queue tickets
    _n("issued"),
    _n("called"),
    _n("served"),
    _n("cancelled"),
    # policies
    _n("hard"),
    _n("soft"),
    # a station's parts and their states
    _n("thermometer"),
    _n("camera"),
    _n("beams"),
    _n("door_camera"),
    _n("relay"),
    _n("uplink"),
    _n("journal"),
    _n("kiosk"),
    _n("station"),
    _n("online"),
    _n("offline"),
    _n("error"),
    _n("ended"),
    _n("set_aside"),
    _n("silent"),
    # audit actions and the actors that are not people
    _n("acknowledge"),
    _n("add-room"),
    _n("add-site"),
    _n("add-station"),
    _n("correction"),
    _n("create-user"),
    _n("login"),
    _n("override"),
    _n("purge"),
    _n("revoke-station"),
    _n("rotate-token"),
    _n("set-password"),
    _n("update-room"),
    _n("update-site"),
    _n("update-user"),
    _n("user-sites"),
    _n("cli"),
    _n("scheduler"),
)


def compile_catalogues(target_dir: Path) -> None:
    """Compile every ``.po`` under ``translations/`` into ``target_dir`` (atomically, if stale)."""
    for po_path in SOURCE_DIR.glob("*/LC_MESSAGES/messages.po"):
        locale = po_path.parent.parent.name
        mo_path = target_dir / locale / "LC_MESSAGES" / "messages.mo"
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=locale)
        tmp = mo_path.with_suffix(f".{os.getpid()}")
        with tmp.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        tmp.replace(mo_path)


def catalogue(locale: str) -> Catalog:
    """The ``.po`` catalogue of ``locale``, as Babel reads it (for checks and tools)."""
    with (SOURCE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        return read_po(po_file, locale=locale)


def select_locale() -> str:
    """The logged-in user's language, else the browser's best match, else Indonesian."""
    if current_user and current_user.is_authenticated:
        return current_user.locale
    return request.accept_languages.best_match(LOCALES) or "id"


def init_app(app: Flask) -> None:
    """Compile the catalogues and attach flask-babel."""
    target = Path(app.instance_path) / "translations"
    compile_catalogues(target)
    Babel(app, locale_selector=select_locale, default_translation_directories=str(target))
    app.jinja_env.globals["get_locale"] = get_locale
