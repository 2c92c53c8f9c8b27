"""Whether a run is stored in the results database: the one ``--no-record`` every command uses.

Commands that record (``scan``, ``detect``, ``fix``) take :data:`NoRecordOption` and ask
:func:`should_record`; ``MAMORI_NO_RECORD=1`` turns recording off for a whole session (a CI
job, a trial run) without changing each command line.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

NO_RECORD_ENV = "MAMORI_NO_RECORD"

NoRecordOption = Annotated[
    bool,
    typer.Option(
        "--no-record",
        help="Do not store this run in the results database (MAMORI_HOME/results.sqlite, the "
        "dashboard's data); MAMORI_NO_RECORD=1 does the same for every command.",
    ),
]


def should_record(no_record: bool = False) -> bool:
    """False when ``--no-record`` was given or ``MAMORI_NO_RECORD`` is set to a true value."""
    if no_record:
        return False
    return os.environ.get(NO_RECORD_ENV, "").strip().lower() not in ("1", "true", "yes", "on")
