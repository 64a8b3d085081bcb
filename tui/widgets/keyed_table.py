"""A DataTable updated in place: rows keyed (alert fingerprint, silence id), only changed
cells rewritten, rows added/removed by key, order fixed with a sort. No rebuilds, so
1 Hz updates do not flicker or lose the cursor."""

from __future__ import annotations

from typing import Any, Sequence

from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable


class KeyedCell(Text):
    """The first cell of a row, carrying its row key so `DataTable.sort` can order rows
    by key (the sort key function only sees cells)."""

    row_key: str = ""

    @classmethod
    def of(cls, cell: Any, key: str) -> "KeyedCell":
        src = cell if isinstance(cell, Text) else Text(str(cell))
        out = cls(src.plain, style=src.style, no_wrap=True)
        out.spans = list(src.spans)
        out.row_key = key
        return out


class KeyedTable(DataTable):
    """`sync(rows)` with rows = [(key, (cell, ...)), ...] in the order to show."""

    def __init__(self, columns: Sequence[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self._columns = list(columns)
        self._cells: dict[str, tuple] = {}
        self._order: list[str] = []
        self.cell_updates = 0  # for tests: proof that updates happen in place
        self.rows_added = 0

    def on_mount(self) -> None:
        for label, key in self._columns:
            self.add_column(label, key=key)

    def selected_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            row_key, _ = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0))
        except Exception:  # noqa: BLE001 - cursor outside the table while it changes
            return None
        return row_key.value

    def sync(self, rows: Sequence[tuple[str, tuple]]) -> None:
        selected = self.selected_key()
        wanted = dict(rows)
        for key in [k for k in self._cells if k not in wanted]:
            self.remove_row(key)
            del self._cells[key]
        for key, cells in rows:
            cells = (KeyedCell.of(cells[0], key), *cells[1:])
            old = self._cells.get(key)
            if old is None:
                self.add_row(*cells, key=key)
                self.rows_added += 1
            elif _sig(old) != _sig(cells):
                for (_label, col), before, after in zip(self._columns, old, cells,
                                                        strict=True):
                    if _sig((before,)) != _sig((after,)):
                        self.update_cell(key, col, after, update_width=True)
                        self.cell_updates += 1
            self._cells[key] = cells
        order = [key for key, _ in rows]
        current = [row.key.value for row in self.ordered_rows]
        if current != order:
            rank = {key: i for i, key in enumerate(order)}
            self.sort(self._columns[0][1],
                      key=lambda cell: rank.get(getattr(cell, "row_key", ""), len(rank)))
        if selected in self._cells:
            self.move_cursor(row=self.get_row_index(selected), animate=False)


def _sig(cells: tuple) -> tuple:
    """What a cell looks like (Text equality ignores the base style)."""
    return tuple((c.plain, str(c.style), tuple(c.spans)) if isinstance(c, Text) else c
                 for c in cells)
