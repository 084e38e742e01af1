"""Scenario files for the thermometer emulator."""

from pathlib import Path

import pytest

from sensors.emulators.scenario import Boot, ScenarioError, StepKind, load, parse

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "thermometer-scenario.example.toml"


def test_the_example_file_loads():
    scenario = load(EXAMPLE)
    assert scenario.boot is Boot.ESP32
    assert [step.kind for step in scenario.steps][:3] == [StepKind.IDLE, StepKind.PERSON, StepKind.CORRUPT]
    assert scenario.steps[4].body_c == 37.9


@pytest.mark.parametrize(
    ("document", "message"),
    [
        # a misspelt top-level key names itself
        ({"ambiant_c": 25, "steps": [{"kind": "idle", "seconds": 1}]}, "ambiant_c: unknown key"),
        # a misspelt key in a step names its path
        (
            {"steps": [{"kind": "idle", "seconds": 1}, {"kind": "person", "objet_c": 36}]},
            r"steps\[1\].objet_c",
        ),
        # an unknown step kind lists the kinds
        ({"steps": [{"kind": "dance", "seconds": 1}]}, "'dance' is not one of idle, person"),
        # a person without a temperature
        ({"steps": [{"kind": "person", "seconds": 1}]}, r"steps\[0\].object_c: a person step needs"),
        # a timed step without a duration
        ({"steps": [{"kind": "pause"}]}, r"steps\[0\].seconds"),
        # a string where a number belongs
        ({"noise_c": "low", "steps": [{"kind": "idle", "seconds": 1}]}, "noise_c: expected a number"),
        # no steps at all
        ({"ambient_c": 25}, "at least one"),
    ],
)
def test_bad_scenarios_name_the_key(document, message):
    with pytest.raises(ScenarioError, match=message):
        parse(document)


def test_not_toml_is_a_clear_error(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("steps = [[[", encoding="utf-8")
    with pytest.raises(ScenarioError, match="is not valid TOML"):
        load(path)
