"""Every library a package imports is declared in the extra of the role that runs it.

``sensors`` and ``station`` run on a station (``gerbang[station]``; the mask training on ``train``),
``dashboard`` on a dashboard server (``gerbang[dashboard]``, with ``postgres`` and ``mqtt``).
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = {"sensors", "station", "dashboard", "gerbang", "gerbang_demo", "gerbang_logging", "gerbang_simulate"}
#: Where each part's code lives, and the extras it may rely on.
ROLES = {
    "station": (["sensors", "station"], ["station"], ["station/vision/training"]),
    "train": (["station/vision/training"], ["station", "train"], []),
    "dashboard": (["dashboard"], ["dashboard", "postgres", "mqtt"], []),
    "all": (["gerbang.py", "gerbang_demo.py", "gerbang_logging.py", "gerbang_simulate.py"], ["all"], []),
}


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def declared(extras: list[str]) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    optional = project["optional-dependencies"]
    names = {_name(r) for r in project["dependencies"]}
    todo = list(extras)
    while todo:
        for requirement in optional[todo.pop()]:
            if _name(requirement) == "gerbang":  # gerbang[station,dashboard,...]
                todo.extend(requirement.partition("[")[2].rstrip("]").split(","))
            else:
                names.add(_name(requirement))
    return names


def imported_libraries(paths: list[str], skip: list[str]) -> set[str]:
    found = set()
    for where in paths:
        base = ROOT / where
        for path in [base] if base.suffix == ".py" else base.rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if any(relative.startswith(s) for s in skip):
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    found.update(alias.name.partition(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.partition(".")[0])
    return {name for name in found if name not in OURS and name not in sys.stdlib_module_names}


@pytest.mark.parametrize("role", list(ROLES))
def test_every_imported_library_is_declared_for_its_role(role: str) -> None:
    paths, extras, skip = ROLES[role]
    distributions = packages_distributions()
    allowed = declared(extras)
    missing = []
    for module in sorted(imported_libraries(paths, skip)):
        dists = {d.lower().replace("_", "-") for d in distributions.get(module, [])}
        if not dists:
            if role == "train":
                continue  # PyTorch and onnx are not installed by `make setup`
            missing.append(f"{module} (not installed)")
        elif not dists & allowed:
            missing.append(f"{module} (from {', '.join(sorted(dists))})")
    assert missing == [], f"declare these in the {extras} extras of pyproject.toml"
