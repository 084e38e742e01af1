"""The station's commands, gathered by the ``gerbang`` command."""

from __future__ import annotations

import click

cli = click.Group("station", help="The station: masks, counting, screening.")
