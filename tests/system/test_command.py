"""The ``gerbang`` command: lazy subcommands, the extras they name when missing, --version, JSON logs."""

import json
import subprocess
import sys
import textwrap

import click
import pytest
from click.testing import CliRunner

import gerbang

HEAVY = ("flask", "sqlalchemy", "cv2", "numpy", "alembic", "psycopg", "paho", "dashboard")


def _imported_after(args):
    """The heavy modules a fresh interpreter holds after running ``gerbang ARGS``."""
    script = textwrap.dedent(
        f"""
        import sys
        from gerbang import main
        try:
            main({args!r}, standalone_mode=False)
        finally:
            tops = {{name.partition(".")[0] for name in sys.modules}}
            print(sorted(tops & set({HEAVY!r})), file=sys.stderr)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return done.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],  # the list of every command, their help without their modules
        ["thermometer", "protocols"],  # a device command: pyserial and the decoders only
        ["beams", "--help"],  # another device group
        ["station", "--help"],  # the station's group lists its commands without OpenCV
    ],
)
def test_light_commands_import_no_heavy_library(args):
    assert _imported_after(args) == "[]"


def test_the_dashboard_loads_only_when_asked_for():
    assert "flask" in _imported_after(["dashboard", "--help"])


def test_every_lazy_command_is_listed_with_its_own_help():
    group = gerbang.main
    ctx = click.Context(group)
    for name, (_where, help_text, _extra) in group.lazy_subcommands.items():
        real = group.get_command(ctx, name)
        assert real is not None, name
        assert real.get_short_help_str(200) == click.Command(name, help=help_text).get_short_help_str(200), (
            name
        )


def test_help_lists_every_command():
    listed = CliRunner().invoke(gerbang.main, ["--help"])
    assert listed.exit_code == 0
    for name in ("beams", "count", "dashboard", "demo", "masks", "simulate", "station", "thermometer"):
        assert f"  {name} " in listed.output


def test_version_is_the_installed_one():
    from importlib.metadata import version

    shown = CliRunner().invoke(gerbang.main, ["--version"])
    assert shown.exit_code == 0
    assert shown.output.strip().endswith(version("gerbang"))


@pytest.mark.parametrize(
    ("blocked", "args", "extra"),
    [
        # no pyserial: a thermometer command names the station extra
        ("serial", ["thermometer", "protocols"], "station"),
        # no OpenCV: counting names the station extra
        ("cv2", ["count", "x.mp4", "--line", "0,0,1,1", "--in-point", "0,1"], "station"),
        # no Flask on a station: the station extra (its kiosk), not the dashboard's
        ("flask", ["station", "run", "--config", "missing.toml"], "station"),
        # no Flask on a dashboard: the dashboard extra
        ("flask", ["dashboard", "--help"], "dashboard"),
        # no SQLAlchemy: the dashboard extra
        ("sqlalchemy", ["dashboard", "init-db"], "dashboard"),
        # no psycopg with a PostgreSQL URL: the postgres extra, found when the command runs
        (
            "psycopg",
            ["dashboard", "init-db", "--database", "postgresql+psycopg://u@127.0.0.1:1/x"],
            "postgres",
        ),
    ],
)
def test_a_missing_library_names_the_extra_to_install(tmp_path, blocked, args, extra):
    (tmp_path / blocked).mkdir()
    (tmp_path / blocked / "__init__.py").write_text(
        f"raise ModuleNotFoundError(\"No module named '{blocked}'\", name={blocked!r})\n"
    )
    script = f"import sys; sys.path.insert(0, {str(tmp_path)!r}); from gerbang import main; main({args!r})"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert f"pip install 'gerbang[{extra}]'" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("module", "command_extra", "extra"),
    [
        ("cv2", "station", "station"),  # OpenCV comes with the station
        ("paho.mqtt.client", "dashboard", "mqtt"),  # a submodule's top level decides
        ("psycopg", "dashboard", "postgres"),  # PostgreSQL's driver has its own extra
        ("flask", "station", "station"),  # shared by two extras: the command's own
        ("flask", "dashboard", "dashboard"),  # shared by two extras: the command's own
        ("no_such_thing", "station", None),  # none of ours: the error is left as it is
        (None, "station", None),  # an error without a name
    ],
)
def test_missing_extra_table(module, command_extra, extra):
    assert gerbang.missing_extra(module, command_extra) == extra


def test_json_logs_are_one_object_a_line():
    script = (
        "import logging; from gerbang_logging import configure_logging;"
        "configure_logging(logging.INFO, 'json');"
        "logging.getLogger('station.uplink').warning('dashboard %s unreachable', 'x')"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    line = json.loads(done.stderr)
    assert line["level"] == "WARNING"
    assert line["logger"] == "station.uplink"
    assert line["message"] == "dashboard x unreachable"
    assert line["time"].endswith("+00:00")
