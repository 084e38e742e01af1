"""Words, not codes: every page, as every role, in both languages, shows labels and translated messages.

Each page is rendered in English and in Bahasa Indonesia with representative data (every alert kind,
decision, mask verdict, role, queue state, device state) and its visible text is read. A test fails
when a snake_case code reaches the page, when a sentence on the Indonesian page is the English one
(a message without a catalogue entry), or when Werkzeug's own English description is shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from dashboard_support import PASSWORD
from dashboard_wire import bearer, correction, crossing, event, screening
from flask import Flask
from flask.testing import FlaskClient
from werkzeug import exceptions

import dashboard
from dashboard import jobs
from dashboard.db import new_session
from dashboard.i18n import catalogue
from dashboard.models import Role

# The data the pages show as it was entered: names are not translated.
DATA_WORDS = {"Kantor", "Pusat", "kantor-pusat", "Aula", "Utama", "aula", "gate-1", "main", "budi", "Gerbang"}
DATA_WORDS |= {f"{role}-{locale}" for role in Role for locale in ("en", "id")}
DATA_WORDS |= {"Bahasa", "Indonesia", "English", "UTC", "°C", "Skin", "Body"}
ZONE_NAME = re.compile(r"[A-Z]{2,5}")  # WIB, WITA, WIT, UTC: named the same in both languages
SNAKE_CODE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")
WORD = re.compile(r"[^\W\d_][\w'-]*")
SHOWN_ATTRIBUTES = ("placeholder", "aria-label", "title", "alt")


class VisibleText(HTMLParser):
    """The text a person reads: text nodes and labelling attributes, outside scripts and ``.verbatim``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._stack: list[tuple[str, bool]] = []

    def _skipping(self) -> bool:
        return any(skip for _tag, skip in self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        skip = tag in ("script", "style") or "verbatim" in (values.get("class") or "").split()
        if not self._skipping() and not skip:
            self.texts += [values[name] or "" for name in SHOWN_ATTRIBUTES if values.get(name)]
        if tag not in ("input", "br", "meta", "link", "img", "hr", "line", "rect", "path", "circle"):
            self._stack.append((tag, skip))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if not self._skipping():
            self.texts += [values[name] or "" for name in SHOWN_ATTRIBUTES if values.get(name)]

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            if self._stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if data.strip() and not self._skipping():
            self.texts.append(" ".join(data.split()))


def visible_texts(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return parser.texts


def same_in_both(text: str, same_words: set[str]) -> bool:
    """Whether ``text`` may read the same in both languages: data, numbers, and words the catalogue keeps."""
    return all(
        word in DATA_WORDS or word in same_words or ZONE_NAME.fullmatch(word) for word in WORD.findall(text)
    )


def werkzeug_descriptions() -> Iterator[str]:
    for value in vars(exceptions).values():
        if (
            isinstance(value, type)
            and issubclass(value, exceptions.HTTPException)
            and isinstance(value.description, str)
        ):
            yield value.description.split(".")[0]


def post(client: FlaskClient, token: str, *events: dict) -> None:
    response = client.post("/api/v1/events", json={"events": list(events)}, headers=bearer(token))
    assert response.status_code == 200, response.text


@pytest.fixture
def shown(app: Flask, client: FlaskClient, make_room: Callable[..., str], make_station) -> FlaskClient:
    """A site with every kind of alert, decision, mask, queue state and device state."""
    with new_session(app) as session:
        from dashboard import manage

        manage.add_room(session, "kantor-pusat", "aula", 4, 0.5, name="Aula Utama")
        site = session.execute(
            manage.select(manage.Site).where(manage.Site.slug == "kantor-pusat")
        ).scalar_one()
        site.name = "Kantor Pusat"
        session.commit()
    token = make_station("gate-1", "aula")
    post(
        client,
        token,
        crossing("out"),  # at zero: not counted
        *[crossing("in") for _ in range(3)],  # over the limit of 2
        crossing("out"),
        correction(delta=1, by="budi", reason="missed"),
        screening("allow", reason="ok", mask="with_mask", body_c=36.5, raw_c=34.1),
        screening("deny", reason="no_mask", mask="without_mask"),
        screening("deny", reason="mask_below_nose", mask="incorrect"),
        screening("retest", reason="fever", body_c=37.9, retest=False),
        screening("deny", reason="fever_retest", body_c=37.8, retest=True),
        event("queue", ticket=1, action="issued"),
        event("queue", ticket=2, action="issued"),
        event("queue", ticket=2, action="called"),
        event("queue", ticket=3, action="issued"),
        event("queue", ticket=3, action="served"),
        event("queue", ticket=4, action="issued"),
        event("queue", ticket=4, action="cancelled"),
        event("status", device="thermometer", state="offline", detail="unplugged"),
        event("status", device="camera", state="error", detail="no frames"),
        event("status", device="beams", state="online", detail=""),
        event("status", device="uplink", state="set_aside", detail="1 event set aside"),
    )
    with new_session(app) as session:
        jobs.check_silent(session, 0.0)
    return client


def log_in(client: FlaskClient, app: Flask, role: Role, locale: str) -> None:
    name = f"{role}-{locale}"
    with new_session(app) as session:
        from dashboard import manage

        if session.execute(manage.select(manage.User).where(manage.User.username == name)).first() is None:
            # guards and supervisors see only their sites: these see every site there is
            sites = session.execute(manage.select(manage.Site.slug)).scalars().all()
            manage.create_user(session, name, PASSWORD, role, locale=locale, sites=sites)
    client.post("/logout")
    response = client.post("/login", data={"username": name, "password": PASSWORD})
    assert response.status_code == 302, response.text


def page_paths(app: Flask) -> list[str]:
    """Every page a person opens (GET, not the API, the stream or static files), arguments filled."""
    args = {"room": "aula", "site": "kantor-pusat"}
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint.startswith(("api", "live", "static")):
            continue
        if rule.rule.startswith(("/api/", "/live/", "/metrics")) or rule.rule.endswith((".csv", ".json")):
            continue
        if set(rule.arguments) - set(args):
            continue
        paths.append(rule.build({name: args[name] for name in rule.arguments}, append_unknown=False)[1])
    # error pages: ours, Werkzeug's own, a validation message, a role refused
    return [
        *sorted(set(paths)),
        "/rooms/nowhere",
        "/no-such-page",
        "/screenings?from=2026-13-40",
        "/screenings?from=2026-01-02&to=2026-01-01",
        "/reports/kantor-pusat?day=yesterday",
        "/reports/kantor-pusat?from=2026-11-01&to=2026-11-03",
        "/alerts?state=closed",
        "/alerts?kind=nope",
    ]


@pytest.mark.parametrize("role", list(Role))
def test_every_page_shows_words_not_codes(app: Flask, shown: FlaskClient, role: Role) -> None:
    same_words = catalogue_same_words()
    problems: list[str] = []
    werkzeug = list(werkzeug_descriptions())
    pages: dict[str, dict[str, list[str]]] = {}
    for locale in ("en", "id"):
        log_in(shown, app, role, locale)
        for path in page_paths(app):
            response = shown.get(path, follow_redirects=True)  # an old address: the page it sends to
            assert response.status_code < 500, (path, response.status_code)
            texts = visible_texts(response.text)
            pages.setdefault(path, {})[locale] = texts
            for text in texts:
                problems += [
                    f"{locale} {path}: raw code {code!r} in {text!r}" for code in SNAKE_CODE.findall(text)
                ]
                problems += [f"{locale} {path}: Werkzeug's {w!r}" for w in werkzeug if w in text]
    for path, by_locale in pages.items():
        english = set(by_locale["en"])
        for text in by_locale["id"]:
            if text in english and not same_in_both(text, same_words):
                problems.append(f"id {path}: untranslated {text!r}")
    assert not problems, "\n".join(problems)


def used_messages() -> set[str]:
    """Every message the dashboard's code and templates mark (the extraction map of babel.cfg)."""
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "_n": None, "ngettext": (1, 2)}
    found = extract_from_dir(str(Path(dashboard.__file__).parent), method_map, keywords=keywords)
    return {message if isinstance(message, str) else message[0] for _file, _line, message, *_ in found}


def translated(entry: str | tuple[str, ...] | None) -> bool:
    """Whether a catalogue entry has its translation (every plural form, for a plural)."""
    if isinstance(entry, tuple):
        return all(entry)
    return bool(entry)


def catalogue_same_words() -> set[str]:
    """Words the Indonesian catalogue keeps as they are (``Detail``, ``Status``)."""
    words: set[str] = set()
    for message in catalogue("id"):
        if message.id and message.string and message.id == message.string:
            words |= set(WORD.findall(str(message.id)))
    return words


@pytest.mark.parametrize("locale", ["en", "id"])
def test_every_catalogue_entry_is_translated(locale: str) -> None:
    # every message the code and the templates use has a non-empty Indonesian entry, and every code
    # shown as a word has an English one
    from dashboard.i18n import DATA_MESSAGES

    entries = {m.id if isinstance(m.id, str) else m.id[0]: m.string for m in catalogue(locale) if m.id}
    needed = used_messages() if locale == "id" else set(DATA_MESSAGES)
    missing = sorted(message for message in needed if not translated(entries.get(message)))
    assert not missing, missing


@pytest.mark.parametrize(
    ("form", "english", "indonesian"),
    [
        # a slug that is not one
        ({"site": "kantor", "room": "Bad Slug", "capacity": "8"}, "must be a slug", "harus berupa slug"),
        # a capacity that is not a number
        ({"site": "kantor", "room": "aula", "capacity": "many"}, "must be a number", "harus berupa angka"),
        # a share out of range
        ({"site": "kantor", "room": "aula", "capacity": "8", "share": "2"}, "share must be", "porsi harus"),
    ],
)
def test_validation_messages_are_in_the_users_language(
    app: Flask, client: FlaskClient, form: dict[str, str], english: str, indonesian: str
) -> None:
    for locale, expected in (("en", english), ("id", indonesian)):
        log_in(client, app, Role.ADMIN, locale)  # an admin may add a room to any site, a new one too
        response = client.post("/settings/rooms", data=form)
        assert response.status_code == 400
        assert expected in response.text, (locale, response.text)


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        # a mask below the nose is its own thing, not "no mask"
        ("en", ["mask below the nose", "no mask", "mask on", "fever again at the re-test", "over the limit"]),
        # and in Indonesian
        ("id", ["masker di bawah hidung", "tanpa masker", "bermasker", "melebihi batas"]),
    ],
)
def test_codes_read_as_words(app: Flask, shown: FlaskClient, locale: str, words: list[str]) -> None:
    log_in(shown, app, Role.SUPERVISOR, locale)
    page = shown.get("/screenings").text + shown.get("/alerts").text
    for word in words:
        assert word in page, word


@pytest.mark.parametrize(
    ("kind", "detail", "english", "indonesian"),
    [
        # a mask below the nose and the decision, as ingest stores them
        ("no_mask", "incorrect, deny", "mask below the nose, refused", "masker di bawah hidung, tolak"),
        # a fever: the temperature stays, the decision is a word
        ("fever", "37.9 °C, retest", "37.9 °C, re-test", "37.9 °C, tes ulang"),
        # a full room
        ("over_limit", "6 inside, limit 5", "6 inside, limit 5", "6 di dalam, batas 5"),
        # a silent station, in the largest unit that reads well
        ("station_silent", "silent for 3900 s", "silent for 1 h 5 min", "diam selama 1 j 5 mnt"),
        # a station's own sentence is kept as it is
        ("events_set_aside", "2 events refused", "2 events refused", "2 events refused"),
    ],
)
def test_alert_details_read_as_words(
    app: Flask, kind: str, detail: str, english: str, indonesian: str
) -> None:
    from flask_babel import force_locale

    from dashboard.words import describe_alert

    with app.test_request_context():
        for locale, expected in (("en", english), ("id", indonesian)):
            with force_locale(locale):
                assert describe_alert(kind, detail) == expected
