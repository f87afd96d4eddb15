"""Command line: flags -> settings -> one api call -> rendering (`arkhiv.reports`). No logic of
its own. The commands live in `batch` (ingest, watch), `archive` (search, show, export, check,
reindex, doctor) and `web` (serve, passwd, token); importing them registers them on `app`."""

# The order of registration is the order `arkhiv --help` lists the commands in.
# isort: off
from arkhiv.cli.common import app
from arkhiv.cli import batch, archive, web
# isort: on

__all__ = ["app", "archive", "batch", "main", "web"]


def main() -> None:
    app()
