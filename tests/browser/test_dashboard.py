"""The dashboard in a real Chromium: log in, live updates, CSV export, roles."""

from __future__ import annotations

import csv
import io
import json
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

from dashboard_browser import Site, log_in
from playwright.sync_api import expect


def post_events(site: Site, *events: dict) -> dict:
    request = urllib.request.Request(
        f"{site.url}/api/v1/events",
        data=json.dumps({"events": list(events)}).encode(),
        headers={"Authorization": f"Bearer {site.token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def event(kind: str, **fields: object) -> dict:
    return {"id": str(uuid.uuid4()), "type": kind, "at": datetime.now(UTC).isoformat(), **fields}


def current_count(site: Site) -> int:
    request = urllib.request.Request(
        f"{site.url}/api/v1/rooms/lobby/occupancy", headers={"Authorization": f"Bearer {site.token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["occupancy"]


def test_log_in_and_out(dashboard_page, dashboard_site: Site) -> None:
    page, site = dashboard_page, dashboard_site
    log_in(page, "siti")
    expect(page.locator("h1")).to_have_text("Overview")
    page.click("#logout")
    page.wait_for_url("**/login")
    page.goto("/settings/")
    expect(page).to_have_url(f"{site.url}/login?next=/settings/")
    assert page.problems == []


def test_an_event_appears_on_the_open_overview_without_a_reload(dashboard_page, dashboard_site: Site) -> None:
    page, site = dashboard_page, dashboard_site
    log_in(page, "siti")
    card = page.locator('.card[data-room="lobby"]')
    before = current_count(site)
    expect(card.locator(".count")).to_have_text(str(before))
    page.evaluate("window.notReloaded = true")
    assert post_events(site, event("crossing", direction="in"), event("crossing", direction="in")) == {
        "accepted": 2,
        "duplicates": 0,
    }
    expect(card.locator(".count")).to_have_text(str(before + 2))
    post_events(site, event("screening", decision="deny", reason="fever", body_c=38.4))
    expect(page.locator("#live-alerts li").first).to_contain_text("fever")
    assert page.evaluate("window.notReloaded") is True
    # the room's name, a script tag, is text: it never ran (no dialog) and CSP had nothing to block
    expect(card.locator(".name")).to_have_text("<script>alert('lobby')</script>")
    assert page.problems == []


def test_the_traffic_light_turns_as_the_room_fills(dashboard_page, dashboard_site: Site) -> None:
    page, site = dashboard_page, dashboard_site
    log_in(page, "siti")
    post_events(site, event("correction", value=0, by="siti", reason="reset for the test"))
    card = page.locator('.card[data-room="lobby"]')
    expect(card).to_have_class("card state-open")
    post_events(site, *[event("crossing", direction="in") for _ in range(4)])  # 4 of limit 5
    expect(card).to_have_class("card state-near")
    post_events(site, event("crossing", direction="in"))
    expect(card).to_have_class("card state-full")


def test_the_csv_export_downloads(dashboard_page, dashboard_site: Site) -> None:
    page, site = dashboard_page, dashboard_site
    post_events(site, event("screening", decision="allow", body_c=36.6, mask="with_mask"))
    log_in(page, "siti")
    page.goto("/screenings")
    with page.expect_download() as download_info:
        page.click("#csv")
    download = download_info.value
    assert download.suggested_filename.startswith("screenings-")
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert "allow" in {row["decision"] for row in rows}
    assert {row["station"] for row in rows} == {"gate-1"}


def test_a_guard_cannot_open_the_settings(dashboard_page) -> None:
    page = dashboard_page
    log_in(page, "budi")
    expect(page.locator("nav")).not_to_contain_text("Settings")
    response = page.goto("/settings/")
    assert response is not None
    assert response.status == 403
    expect(page.locator("h1")).to_contain_text("403")


def post_with(site: Site, token: str) -> int:
    request = urllib.request.Request(
        f"{site.url}/api/v1/events",
        data=json.dumps({"events": [event("status", device="station", state="online")]}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def test_a_supervisor_rotates_and_revokes_a_token_and_the_audit_log_shows_it(
    dashboard_page, dashboard_site: Site
) -> None:
    page, site = dashboard_page, dashboard_site
    log_in(page, "siti")
    page.goto("/settings/")
    page.fill('input[placeholder="station name"]', "gate-9")
    page.click('button:text-is("Register")')
    first = page.locator("pre.token").inner_text().strip()
    assert post_with(site, first) == 200
    page.goto("/settings/")
    page.locator('tr[data-station="gate-9"]').locator('button:text-is("New token")').click()
    # asked first: Cancel goes back and the token still works
    expect(page.locator("p.question")).to_contain_text("Give station gate-9 a new token?")
    page.click("#cancel")
    page.wait_for_url("**/settings/")
    assert post_with(site, first) == 200
    page.locator('tr[data-station="gate-9"]').locator('button:text-is("New token")').click()
    page.click("#confirm")
    expect(page.locator("h1")).to_have_text("New token for station gate-9")
    second = page.locator("pre.token").inner_text().strip()
    assert (post_with(site, first), post_with(site, second)) == (401, 200)
    page.goto("/settings/")
    page.locator('tr[data-station="gate-9"]').locator('button:text-is("Revoke")').click()
    expect(page.locator("p.question")).to_have_text(
        "Revoke station gate-9? It will be refused until its token is rotated."
    )
    assert post_with(site, second) == 200  # only asked so far
    page.click("#confirm")
    expect(page.locator('tr[data-station="gate-9"]')).to_contain_text("revoked")
    assert post_with(site, second) == 401
    page.goto("/audit")
    audit = page.locator("table.audit")
    for action in ("add-station", "rotate-token", "revoke-station"):
        expect(audit.locator(f'tr[data-action="{action}"]').first).to_contain_text("siti")
    assert page.problems == []


def test_the_copy_button_puts_the_station_configuration_on_the_clipboard(
    dashboard_page, dashboard_site: Site
) -> None:
    page, site = dashboard_page, dashboard_site
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    log_in(page, "siti")
    page.goto("/settings/")
    page.fill('input[placeholder="station name"]', "gate-copy")
    page.click('button:text-is("Register")')
    token = page.locator("pre.token").inner_text().strip()
    config_text = page.locator("#config-snippet").inner_text()
    assert 'name = "gate-copy"' in config_text
    assert f'url = "{site.url}"' in config_text  # the address this page was opened by
    copied = {}
    for snippet_id in ("config-snippet", "env-snippet"):
        button = page.locator(f'button[data-copy="{snippet_id}"]')
        expect(button).to_be_visible()  # shown by copy.js (hidden without JavaScript)
        button.click()
        expect(page.locator(".copy-status")).to_have_text("Copied.")
        copied[snippet_id] = page.evaluate("navigator.clipboard.readText()")
        page.evaluate("navigator.clipboard.writeText('')")  # the next copy must put its own text there
    assert copied["config-snippet"] == page.locator("#config-snippet").text_content()
    assert copied["config-snippet"].startswith("[station]\n")
    assert copied["env-snippet"] == f"GERBANG_STATION_TOKEN={token}\n"
    assert post_with(site, token) == 200
    assert page.problems == []  # copy.js ran under the CSP, no console errors


def test_without_a_clipboard_the_copy_button_selects_the_text(dashboard_page, dashboard_site: Site) -> None:
    page = dashboard_page
    # a browser with no clipboard API (plain HTTP on a LAN address is no secure context)
    page.add_init_script("Object.defineProperty(navigator, 'clipboard', {value: undefined})")
    log_in(page, "siti")
    page.goto("/settings/")
    page.fill('input[placeholder="station name"]', "gate-select")
    page.click('button:text-is("Register")')
    page.locator('button[data-copy="config-snippet"]').click()
    expect(page.locator(".copy-status")).to_have_text("Selected: press Ctrl+C to copy.")
    selected = page.evaluate("window.getSelection().toString()")
    assert selected.rstrip() == page.locator("#config-snippet").text_content().rstrip()
    assert page.problems == []


def test_a_page_refused_a_live_stream_tries_again_and_then_updates(
    dashboard_page, dashboard_site: Site
) -> None:
    page, site = dashboard_page, dashboard_site
    live = site.server.live
    live.max_streams = 0  # the server has its fill of live pages: every stream is a 503
    try:
        log_in(page, "siti")
        card = page.locator('.card[data-room="lobby"]')
        before = current_count(site)
        expect(card.locator(".count")).to_have_text(str(before))
        page.wait_for_timeout(500)  # the refusal has come (EventSource gives up on a 503 by itself)
    finally:
        live.max_streams = 2000
    post_events(site, event("crossing", direction="in"))
    # the page opened a new stream a few seconds later, after the last message it had
    expect(card.locator(".count")).to_have_text(str(before + 1), timeout=20_000)
    assert [p for p in page.problems if "503" not in p] == []
