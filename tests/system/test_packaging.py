"""The package as an office installs it: ``python -m build`` (isolated), then the wheel in a clean venv.

The dashboard's extra must bring no OpenCV or numpy and run ``gerbang dashboard --help``; the wheel
must hold the license and every file the packages read at run time. (The station's extra in a fresh
venv is ``tests/system/test_deploy_kit.py``'s walk-through.)
"""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DATA = (".html", ".css", ".js", ".svg", ".po", ".onnx", ".mako", ".json", ".md", ".py")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return {"wheel": next(out.glob("*.whl")), "sdist": next(out.glob("*.tar.gz"))}


def _tracked(*folders: str) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", *folders], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return [name for name in listed.stdout.split() if name.endswith(PACKAGE_DATA)]


@pytest.mark.slow
def test_the_wheel_holds_the_license_and_every_file_the_packages_read(built: dict[str, Path]) -> None:
    names = set(zipfile.ZipFile(built["wheel"]).namelist())
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    tracked = _tracked("sensors", "station", "dashboard")
    if not tracked:
        pytest.skip("not a git checkout")
    assert [name for name in tracked if name not in names] == []
    metadata = (
        zipfile.ZipFile(built["wheel"])
        .read(next(n for n in names if n.endswith(".dist-info/METADATA")))
        .decode()
    )
    assert "License-Expression: Apache-2.0" in metadata
    for extra in ("station", "dashboard", "postgres", "mqtt", "all"):
        assert f"Provides-Extra: {extra}" in metadata


@pytest.mark.slow
def test_the_dashboard_extra_installs_no_opencv_and_runs(built: dict[str, Path], tmp_path: Path) -> None:
    venv.create(tmp_path / "venv", with_pip=True)
    python = tmp_path / "venv" / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", f"{built['wheel']}[dashboard]"],
        check=True,
        capture_output=True,
        timeout=600,
    )
    listed = subprocess.run([str(python), "-m", "pip", "list"], capture_output=True, text=True, check=True)
    installed = listed.stdout.lower()
    for absent in ("opencv", "numpy", "pyserial", "psycopg", "paho-mqtt"):
        assert absent not in installed, absent
    gerbang = tmp_path / "venv" / "bin" / "gerbang"
    shown = subprocess.run([str(gerbang), "dashboard", "--help"], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert "init-db" in shown.stdout
    refused = subprocess.run([str(gerbang), "count", "x.mp4"], capture_output=True, text=True)
    assert refused.returncode == 1
    assert "pip install 'gerbang[station]'" in refused.stderr
