"""Helpers of the dashboard's browser tests, importable by name (``conftest`` is not: several exist)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask

PASSWORD = "correct horse battery"


@dataclass
class Site:
    """The running dashboard: its URL, app and the lobby station's token."""

    url: str
    app: Flask
    token: str
    server: Any = None  # dashboard.serve.DashboardServer, when served as `gerbang dashboard run` does


def log_in(page, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
