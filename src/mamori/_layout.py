"""Tables that never lose a character, whatever the terminal's width.

Rich crops a cell with ``…`` (the default ``overflow="ellipsis"``), cuts a ``no_wrap`` cell,
and, when the columns' narrowest widths add up to more than the terminal, squeezes or drops
whole columns. A security tool must not hide part of a finding that way, so every table mamori
prints goes through :func:`fit`:

- every column wraps between words and folds a word longer than the column (``overflow="fold"``);
- when the table cannot show each column's longest word whole at the given width, it is shown
  stacked instead: one block per row, one ``header: value`` line per non-empty cell, so that
  nothing is cropped and a path or an id is folded at worst, never dropped.

Rows of a group (a package with several advisories, a file with several findings) leave the
shared cells empty after the first row; the stacked form repeats them in each block, so every
block stands alone.
"""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text


def fold_columns(table: Table) -> Table:
    """Make every column wrap (and fold over-long words) instead of cropping; returns ``table``."""
    for column in table.columns:
        column.overflow = "fold"
        column.no_wrap = False
    return table


def _as_text(cell: RenderableType, console: Console) -> Text:
    """A cell as Text; a string cell is read the way the table would have (markup or not)."""
    if isinstance(cell, Text):
        return cell.copy()
    return console.render_str(cell) if isinstance(cell, str) else Text(str(cell))


def stacked(table: Table, console: Console) -> RenderableType:
    """The table as blocks, one per row: ``header: value`` lines, shared cells repeated."""
    headers = [_as_text(c.header, console).plain for c in table.columns]
    cells = [list(c._cells) for c in table.columns]
    rows = max((len(c) for c in cells), default=0)
    parts: list[RenderableType] = []
    if table.title:
        parts.append(_as_text(table.title, console))
    previous: list[Text | None] = [None] * len(headers)
    for r in range(rows):
        block = Table.grid(padding=(0, 1))
        block.add_column(no_wrap=True, style="dim")
        block.add_column(overflow="fold", ratio=1)
        for i, header in enumerate(headers):
            cell = cells[i][r] if r < len(cells[i]) else ""
            value = _as_text(cell, console)
            if not value.plain.strip():
                # a shared cell of a group (left empty after the group's first row)
                kept = previous[i]
                if kept is None:
                    continue
                value = kept.copy()
            else:
                previous[i] = value
            block.add_row(Text(f"{header}:" if header else "-"), value)
        if r < len(table.rows) and table.rows[r].end_section:
            previous = [None] * len(headers)
        parts.extend([Text(""), block])
    return Group(*parts)


def fit(table: Table, console: Console, width: int | None = None) -> RenderableType:
    """``table`` with folding columns if its columns' longest words fit ``width``; else stacked."""
    fold_columns(table)
    width = width or console.width
    # measured unbounded: a measurement within ``width`` is clamped to it and would always "fit"
    need = console.measure(table, options=console.options.update_width(_UNBOUNDED)).minimum
    return table if need <= width else stacked(table, console)


_UNBOUNDED = 1_000_000
