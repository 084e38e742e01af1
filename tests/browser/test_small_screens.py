"""Small screens and urgent alerts, in a real Chromium: no page scrolls sideways at 390 px, and an
open page shows (and, unless muted, sounds) a notice for a fever."""

from __future__ import annotations

import json
import urllib.request
import uuid
from datetime import UTC, datetime

import pytest
from dashboard_browser import PASSWORD, Site, log_in
from playwright.sync_api import expect

from dashboard import manage
from dashboard.db import new_session
from dashboard.models import Role, User

PHONE = {"width": 390, "height": 844}


def post_events(site: Site, *events: dict) -> None:
    request = urllib.request.Request(
        f"{site.url}/api/v1/events",
        data=json.dumps({"events": list(events)}).encode(),
        headers={"Authorization": f"Bearer {site.token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def event(kind: str, **fields: object) -> dict:
    return {"id": str(uuid.uuid4()), "type": kind, "at": datetime.now(UTC).isoformat(), **fields}


@pytest.fixture(scope="module")
def busy_site(dashboard_site: Site) -> Site:
    """The browser tests' site with admins in both languages and a day's worth of everything."""
    with new_session(dashboard_site.app) as session:
        for locale in ("en", "id"):
            manage.create_user(session, f"ani-{locale}", PASSWORD, Role.ADMIN, locale=locale)
        manage.add_room(session, "cabang-surabaya-timur", "ruang-rapat-lantai-tiga", 40, 0.5)
    post_events(
        dashboard_site,
        *[event("crossing", direction="in") for _ in range(7)],
        event("screening", decision="deny", reason="mask_below_nose", mask="incorrect"),
        event("screening", decision="retest", reason="fever", body_c=38.1),
        event(
            "screening",
            decision="allow",
            body_c=36.4,
            mask="with_mask",
            override_by="siti",
            override_reason="a very long reason typed at the kiosk " * 4,
        ),
        event("correction", delta=-1, by="budi", reason="counted twice"),
        event(
            "status", device="thermometer", state="offline", detail="unplugged from the station's USB port"
        ),
        event("queue", ticket=1, action="issued"),
    )
    return dashboard_site


def page_paths(site: Site) -> list[str]:
    """Every page a person opens (GET, no API or stream), arguments filled, and an error page."""
    args = {"room": "lobby", "site": "kantor-pusat"}
    paths = set()
    for rule in site.app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.rule.startswith(
            ("/api/", "/live/", "/static/", "/metrics")
        ):
            continue
        if rule.rule.endswith((".csv", ".json")) or set(rule.arguments) - set(args):
            continue
        paths.add(rule.build({name: args[name] for name in rule.arguments}, append_unknown=False)[1])
    # the API's documentation is a page people read too, though under /api/
    return [
        *sorted(paths),
        "/api/docs",
        "/reports/kantor-pusat?from=2026-11-01&to=2026-11-30",
        "/no-such-page",
    ]


@pytest.mark.parametrize("locale", ["en", "id"])
def test_no_page_scrolls_sideways_at_390_px(dashboard_browser, busy_site: Site, locale: str) -> None:
    context = dashboard_browser.new_context(base_url=busy_site.url, viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, f"ani-{locale}")
    too_wide = {}
    for path in page_paths(busy_site):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[path] = width
    header = page.evaluate("document.querySelector('header').getBoundingClientRect().height")
    context.close()
    assert too_wide == {}
    assert header <= 170  # wraps compactly (was 172 px with nothing else on the page)


@pytest.mark.parametrize(
    ("sound", "beeps"),
    [
        # the sound is on by default: a beep and the banner
        (True, 1),
        # muted: the banner alone
        (False, 0),
    ],
)
def test_a_fever_shows_a_notice_on_the_open_page(
    dashboard_browser, busy_site: Site, sound: bool, beeps: int
) -> None:
    with new_session(busy_site.app) as session:
        user = session.query(User).filter_by(username="ani-en").one()
        user.alert_sound = sound
        session.commit()
    context = dashboard_browser.new_context(base_url=busy_site.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, "ani-en")
    page.goto("/sites/kantor-pusat/rooms/lobby")
    notice = page.locator("#notice")
    expect(notice).to_be_hidden()
    page.wait_for_function("window.gerbangBeeps === 0")
    post_events(
        busy_site, event("screening", decision="deny", reason="fever_retest", body_c=38.2, retest=True)
    )
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("fever again at the re-test · lobby · gate-1")
    assert page.evaluate("window.gerbangBeeps") == beeps
    post_events(busy_site, event("screening", decision="deny", reason="no_mask", mask="without_mask"))
    notice.locator(".dismiss").click()
    expect(notice).to_be_hidden()
    context.close()
