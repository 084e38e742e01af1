"""``gerbang thermometer emulate`` and ``read`` together, as an installer would use them."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

GERBANG = shutil.which("gerbang", path=str(Path(sys.executable).parent)) or "gerbang"


@pytest.mark.parametrize(
    "protocol",
    [
        # streaming after a start command
        "gy-mcu90614",
        # polled, body mode
        "lu90614",
        # polled, no framing
        "optris-ct",
        # text lines with F echoes
        "adafruit-mlx90614",
    ],
)
def test_emulate_then_read(tmp_path, protocol):
    scenario = tmp_path / "steady.toml"
    scenario.write_text(
        "noise_c = 0.0\nstep_up_s = 0.0\nbody_offset_c = 2.5\n"
        '[[steps]]\nkind = "person"\nobject_c = 34.5\nseconds = 60\n',
        encoding="utf-8",
    )
    with subprocess.Popen(
        [GERBANG, "thermometer", "emulate", "--protocol", protocol, "--scenario", str(scenario)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as emulator:
        try:
            path = emulator.stdout.readline().strip()
            assert path.startswith("/dev/pts/")
            result = subprocess.run(
                [GERBANG, "thermometer", "read", path, "--protocol", protocol, "--count", "3", "--json"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        finally:
            emulator.terminate()
            emulator.wait(timeout=10)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3
    for line in lines:
        assert line["object_c"] == 34.5 or line["body_c"] == 37.0


def test_emulate_refuses_a_bad_scenario(tmp_path):
    scenario = tmp_path / "bad.toml"
    scenario.write_text('[[steps]]\nkind = "idle"\nsecs = 1\n', encoding="utf-8")
    result = subprocess.run(
        [GERBANG, "thermometer", "emulate", "--protocol", "idc50", "--scenario", str(scenario)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert "steps[0].secs: unknown key" in result.stderr
