"""Bahasa Indonesia and English, chosen per user."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from dashboard.models import Role


@pytest.mark.parametrize(
    ("accept", "word"),
    [
        # Indonesian is the default
        ("", "Masuk"),
        # an English browser
        ("en-GB,en;q=0.9", "Log in"),
        # a language we do not have falls back to Indonesian
        ("fr", "Masuk"),
    ],
)
def test_login_page_follows_the_browser(client: FlaskClient, accept: str, word: str) -> None:
    assert f"<h1>{word}</h1>" in client.get("/login", headers={"Accept-Language": accept}).text


def test_each_user_has_their_language(client: FlaskClient, login: Callable, make_room: Callable) -> None:
    make_room("lobby")
    login(Role.SUPERVISOR, locale="id")
    page = client.get("/", headers={"Accept-Language": "en"}).text
    assert "<h1>Ringkasan</h1>" in page
    assert "longgar" in page  # the state word
    response = client.post("/account/language", data={"locale": "en", "next": "/settings/"})
    assert response.headers["Location"] == "/settings/"
    assert "<h1>Overview</h1>" in client.get("/").text
    assert client.post("/account/language", data={"locale": "xx"}).status_code == 400
