"""The deployment kit under ``deploy/``: the units, the compose file, the scripts, the station walk-through.

``systemd-analyze verify`` and ``docker compose config`` (or ``docker-compose config``) run where they
are installed, and are skipped with the reason where not; no image is pulled or built here.
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text())
    return parser


def test_there_is_a_unit_for_each_service() -> None:
    assert [p.name for p in UNITS] == [
        "gerbang-dashboard.service",
        "gerbang-forwarder.service",
        "gerbang-station.service",
    ]


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.stem)
def test_a_unit_restarts_runs_as_its_user_and_keeps_its_files_private(path: Path) -> None:
    service = unit(path)["Service"]
    assert service["Restart"] == "on-failure"
    assert service["User"] == "gerbang"  # the dedicated user of gerbang.sysusers.conf
    assert service["StateDirectory"].startswith("gerbang-")
    assert service["StateDirectoryMode"] == "0700"
    assert service["UMask"] == "0077"  # the journal and the SQLite file are made 0600
    assert service["ProtectSystem"] == "strict"
    assert "--log-format json" in service["ExecStart"]
    assert unit(path)["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    # verify checks that ExecStart's program exists: point it at one that does.
    for path in UNITS:
        (tmp_path / path.name).write_text(path.read_text().replace("/opt/gerbang/bin/gerbang", "/bin/true"))
    done = subprocess.run(
        ["systemd-analyze", "verify", *sorted(str(p) for p in tmp_path.glob("*.service"))],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == ""


def _compose() -> list[str] | None:
    if (
        shutil.which("docker")
        and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0
    ):
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


@pytest.mark.skipif(_compose() is None, reason="neither docker compose nor docker-compose is installed")
@pytest.mark.parametrize(
    ("secrets", "ok"),
    [
        (
            {"POSTGRES_PASSWORD": "p", "GERBANG_SECRET_KEY": "k", "GERBANG_MQTT_PASSWORD": "m"},
            True,
        ),  # all set
        ({"GERBANG_SECRET_KEY": "k", "GERBANG_MQTT_PASSWORD": "m"}, False),  # a secret missing: refused
    ],
)
def test_compose_accepts_the_file_only_with_its_secrets(secrets: dict[str, str], ok: bool) -> None:
    compose = _compose()
    assert compose is not None
    env = {k: v for k, v in os.environ.items() if k not in {"POSTGRES_PASSWORD", "GERBANG_SECRET_KEY"}}
    done = subprocess.run(
        [*compose, "config"], cwd=DEPLOY / "container", env={**env, **secrets}, capture_output=True, text=True
    )
    assert (done.returncode == 0) is ok, done.stderr
    if ok:
        for service in ("dashboard:", "postgres:", "mosquitto:", "forwarder:", "healthcheck:"):
            assert service in done.stdout
        assert "postgresql+psycopg://gerbang:p@postgres:5432/gerbang" in done.stdout
    else:
        assert "POSTGRES_PASSWORD" in done.stderr


def test_the_nginx_example_streams_live_pages_unbuffered_over_tls() -> None:
    text = (DEPLOY / "nginx" / "gerbang.conf").read_text()
    live = text[text.index("location /live/stream") :]
    live = live[: live.index("}")]
    assert "proxy_buffering off;" in live
    assert "listen 443 ssl" in text
    assert "ssl_certificate " in text


@pytest.mark.skipif(
    shutil.which("nginx") is None or shutil.which("openssl") is None, reason="needs nginx and openssl"
)
def test_nginx_accepts_the_example(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=gerbang.example.org", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    site = (DEPLOY / "nginx" / "gerbang.conf").read_text()
    site = site.replace("/etc/letsencrypt/live/gerbang.example.org/fullchain.pem", str(cert))
    site = site.replace("/etc/letsencrypt/live/gerbang.example.org/privkey.pem", str(key))
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  include {tmp_path}/site.conf;\n}}\n"
    )
    done = subprocess.run(
        ["nginx", "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


@pytest.mark.parametrize("script", ["station/install.sh", "kiosk/gerbang-kiosk.sh"])
def test_the_scripts_parse(script: str) -> None:
    path = DEPLOY / script
    assert os.access(path, os.X_OK)
    assert subprocess.run(["sh" if script.startswith("kiosk") else "bash", "-n", str(path)]).returncode == 0


@pytest.mark.slow
def test_the_station_walk_through_runs_in_a_fresh_venv_with_emulated_devices(tmp_path: Path) -> None:
    done = subprocess.run(
        ["bash", str(DEPLOY / "station" / "install.sh"), "--emulated", str(tmp_path), "--seconds", "4"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for step in range(1, 10):
        assert f"== step {step}:" in done.stdout
    assert "gerbang_station_journal_backlog_events" in done.stdout  # the kiosk's /metrics answered
    assert "mode 600" in done.stdout  # the journal is private
    assert not list(
        (tmp_path / "venv").glob("lib/python3*/site-packages/sqlalchemy")
    )  # no dashboard libraries
