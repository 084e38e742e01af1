"""The station's configuration file."""

import tomllib
from pathlib import Path

import pytest

from station.config import ConfigError, StationConfig, door_lines, load, parse
from station.events import Policy

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "station.example.toml"


def test_the_example_file_loads():
    config = load(EXAMPLE)
    assert config.station.room == "ruang-layanan"
    assert config.screening.fever_c == 37.3
    assert config.screening.mask_policy is Policy.HARD
    assert config.camera.guide == (0.25, 0.1, 0.75, 0.9)


def test_an_empty_file_gives_the_defaults():
    assert parse({}) == StationConfig()


def test_door_lines():
    config = parse(
        {
            "counting": {
                "source": "camera",
                "camera": "door.mp4",
                "lines": [{"line": [0, 10, 100, 10], "in_point": [50, 60]}],
            }
        }
    )
    assert config.counting.lines[0].line == (0.0, 10.0, 100.0, 10.0)
    assert config.counting.lines[0].door == "main"
    (line,) = door_lines(config.counting)
    assert (line.start, line.end, line.in_point, line.name) == ((0, 10), (100, 10), (50, 60), "main")


def test_the_example_file_counting_by_camera_loads():
    # the commented [[counting.lines]] example of the example file, switched on
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace('source = "beams"', 'source = "camera"')
    text = text.replace("# [[counting.lines]]", "[[counting.lines]]")
    for key in ("line = ", "in_point = ", "door = ", "person_area_px = "):
        text = text.replace(f"# {key}", key)
    config = parse(tomllib.loads(text))
    assert config.counting.source == "camera"
    assert [line.door for line in config.counting.lines] == ["main"]
    assert [line.person_area_px for line in door_lines(config.counting)] == [None]  # 0: learnt


def test_a_line_s_person_area_reaches_the_counter():
    # an installer's calibration of one line: the other line still learns its own
    document = {
        "counting": {
            "source": "camera",
            "camera": "0",
            "lines": [{**CAMERA_LINE, "person_area_px": 1660}, {**CAMERA_LINE, "door": "side"}],
        }
    }
    lines = door_lines(parse(document).counting)
    assert [(line.name, line.person_area_px) for line in lines] == [("main", 1660.0), ("side", None)]


CAMERA_LINE = {"line": [0, 10, 100, 10], "in_point": [50, 60]}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        # counting by camera without any line
        ({"counting": {"source": "camera", "camera": "0"}}, r"counting.lines: counting by camera needs"),
        # counting by camera with neither a door camera nor a visitor camera
        ({"counting": {"source": "camera", "lines": [CAMERA_LINE]}}, "counting.camera: counting by camera"),
        # a line of zero length
        (
            {
                "counting": {
                    "source": "camera",
                    "camera": "0",
                    "lines": [{"line": [5, 5, 5, 5], "in_point": [0, 9]}],
                }
            },
            r"counting.lines\[0\]: start and end are the same point",
        ),
        # an in-point on the line itself: no room side
        (
            {
                "counting": {
                    "source": "camera",
                    "camera": "0",
                    "lines": [{"line": [0, 0, 10, 0], "in_point": [5, 0]}],
                }
            },
            r"counting.lines\[0\]: in_point .* lies on the line",
        ),
        # a negative person area: no person is that
        (
            {
                "counting": {
                    "source": "camera",
                    "camera": "0",
                    "lines": [{**CAMERA_LINE, "person_area_px": -5}],
                }
            },
            r"counting.lines\[0\].person_area_px: -5 is out of range",
        ),
        # a person of less than a pixel (0 means learnt)
        (
            {
                "counting": {
                    "source": "camera",
                    "camera": "0",
                    "lines": [{**CAMERA_LINE, "person_area_px": 0.5}],
                }
            },
            r"counting.lines\[0\]: person_area_px must be at least 1 pixel",
        ),
        # a door without a name
        (
            {"counting": {"source": "camera", "camera": "0", "lines": [{**CAMERA_LINE, "door": " "}]}},
            r"counting.lines\[0\].door: a door needs a name",
        ),
        # beams without their port
        ({"counting": {"source": "beams"}}, "counting.beams_url: counting with beams needs"),
        # door lines while counting with beams: they would be ignored
        (
            {"counting": {"source": "beams", "beams_url": "loop://", "lines": [CAMERA_LINE]}},
            "counting.lines: door",
        ),
        # a door camera while not counting by camera
        ({"counting": {"source": "none", "camera": "1"}}, "counting.camera: a door camera is for"),
    ],
)
def test_counting_the_station_cannot_honour_is_refused(document, message):
    with pytest.raises(ConfigError, match=message):
        parse(document)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        # a misspelt key names its full path
        ({"screening": {"fever": 37.5}}, "screening.fever: unknown key"),
        # an unknown section
        ({"screenning": {}}, "screenning: unknown key"),
        # a number as text
        ({"screening": {"fever_c": "37.5"}}, "screening.fever_c: expected a number"),
        # a threshold nobody means
        ({"screening": {"fever_c": 42.0}}, r"screening.fever_c: 42.0 is out of range \(35.0 to 40.0\)"),
        # a policy that does not exist
        ({"screening": {"mask_policy": "strict"}}, "screening.mask_policy: expected one of hard, soft"),
        # a share over 1
        ({"station": {"share": 1.5}}, "station.share: 1.5 is out of range"),
        # a closing time that is not HH:MM
        ({"station": {"closing_time": "5pm"}}, "station.closing_time"),
        # a time zone that does not exist (WIT is a name of a zone, not a zone)
        ({"station": {"time_zone": "WIT"}}, "station.time_zone: 'WIT' is not a time zone; use Asia/Jakarta"),
        # a path trying to escape the zone database
        ({"station": {"time_zone": "../../etc/passwd"}}, "station.time_zone: .* is not a time zone"),
        # a guide with three numbers
        ({"camera": {"guide": [0.1, 0.2, 0.3]}}, "camera.guide: expected 4 values"),
        # a mask prior without the share of masks below the nose
        ({"camera": {"mask_prior": [0.8, 0.2]}}, r"camera.mask_prior: expected 3 values \(or none: \[\]\)"),
        # a with_mask bar of 1 or more: nobody could ever be masked
        ({"screening": {"with_mask_min": 1.0}}, "screening.with_mask_min: 1.0 is out of range"),
        # TOML's nan and inf are numbers, but no setting means them
        ({"screening": {"fever_c": float("nan")}}, "screening.fever_c: expected a number, got nan"),
        ({"camera": {"mask_prior": [float("inf"), 0.2, 0.1]}}, r"camera.mask_prior\[0\]: expected a number"),
        # a mask prior with a share of nothing: that class could never be told
        ({"camera": {"mask_prior": [0.8, 0.2, 0]}}, "camera.mask_prior"),
        # a bad key inside a door line
        ({"counting": {"lines": [{"lin": [0, 0, 1, 1]}]}}, r"counting.lines\[0\].lin: unknown key"),
        # a counting source that does not exist
        ({"counting": {"source": "laser"}}, "counting.source: expected one of camera, beams, none"),
        # a whole number where one is needed
        ({"screening": {"plateau_samples": 4.5}}, "screening.plateau_samples: expected a whole number"),
        # a section that is not a table
        ({"kiosk": 8080}, "kiosk: expected a table"),
    ],
)
def test_bad_values_name_their_path(document, message):
    with pytest.raises(ConfigError, match=message):
        parse(document)


def test_unreadable_and_broken_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[station\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load(broken)


def test_secrets_come_from_the_environment(monkeypatch):
    config = parse({"dashboard": {"token_env": "GERBANG_TEST_TOKEN"}})
    monkeypatch.setenv("GERBANG_TEST_TOKEN", "s3cret")
    assert config.secret(config.dashboard.token_env) == "s3cret"


def test_the_mask_prior_is_off_by_default_and_the_classifiers_default_too():
    from station.vision.masks import MaskClassifier

    assert parse({}).camera.mask_prior == ()
    assert MaskClassifier.__init__.__kwdefaults__["prior"] is None


@pytest.mark.parametrize(
    ("document", "prior"),
    [
        # none, said so
        ({"camera": {"mask_prior": []}}, ()),
        # a site policy
        ({"camera": {"mask_prior": [0.75, 0.18, 0.07]}}, (0.75, 0.18, 0.07)),
    ],
)
def test_a_mask_prior_is_a_site_policy(document, prior):
    assert parse(document).camera.mask_prior == prior


def test_with_mask_min_defaults_to_the_safe_rule():
    from station.mask_rule import WITH_MASK_MIN

    assert parse({}).screening.with_mask_min == WITH_MASK_MIN == 0.5
    assert parse({"screening": {"with_mask_min": 0.0}}).screening.with_mask_min == 0.0


def test_the_sites_time_zone_is_read():
    assert parse({"station": {"time_zone": "Asia/Jayapura"}}).station.time_zone == "Asia/Jayapura"
    assert parse({}).station.time_zone == "Asia/Jakarta"
