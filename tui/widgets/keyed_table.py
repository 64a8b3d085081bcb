"""A DataTable updated in place: rows keyed (alert fingerprint, silence id), only changed
cells rewritten, rows added/removed by key, order fixed with a sort. No rebuilds, so
1 Hz updates do not flicker or lose the cursor.

Hundreds of rows come and go at once when the Alerts filter or page changes; DataTable's
one-row-at-a-time add/remove and its Rich measuring of every cell made that cost up to
~0.5 s, so the bulk paths below do the same bookkeeping once (they use DataTable
internals of Textual 8.2; tests/tui/test_tui_fast_paths.py compares them with a plain
DataTable)."""

from __future__ import annotations

import re
from itertools import zip_longest
from typing import Any, Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.cache import LRUCache
from textual._two_way_dict import TwoWayDict
from textual.coordinate import Coordinate
from textual.render import measure
from textual.widgets import DataTable
from textual.widgets.data_table import CellKey, DuplicateKey, Row, RowKey
from textual.widgets._data_table import default_cell_formatter


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
        # DataTable keys its render caches by an update counter that every change bumps,
        # so after a change every entry is dead, yet they stay until evicted: up to
        # 10,000 cells and 1,000 lines (~100,000 objects the garbage collector scans in
        # every full collection: 70 ms pauses). Smaller caches, emptied after a change.
        self._cell_render_cache = LRUCache(600)
        self._row_render_cache = LRUCache(100)
        self._line_cache = LRUCache(100)

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
        updates = self._update_count
        self._sync(rows)
        if self._update_count != updates:
            self._clear_caches()  # every entry was for the old contents

    def _sync(self, rows: Sequence[tuple[str, tuple]]) -> None:
        selected = self.selected_key()
        wanted = dict(rows)
        stale = [k for k in self._cells if k not in wanted]
        if stale:
            self._remove_rows(stale)
            for key in stale:
                del self._cells[key]
        new = []
        for key, cells in rows:
            old = self._cells.get(key)
            if old is None:
                new.append((key, (KeyedCell.of(cells[0], key), *cells[1:])))
            elif old is not cells and _sig(old) != _sig(cells):
                for i, ((_label, col), before, after) in enumerate(
                        zip(self._columns, old, cells, strict=True)):
                    if _sig((before,)) != _sig((after,)):
                        self.update_cell(key, col, KeyedCell.of(after, key) if i == 0 else after,
                                         update_width=True)
                        self.cell_updates += 1
            self._cells[key] = cells
        if new:
            self._add_rows(new)
            self.rows_added += len(new)
        order = [key for key, _ in rows]
        current = [row.key.value for row in self.ordered_rows]
        if current != order:
            rank = {key: i for i, key in enumerate(order)}
            self.sort(self._columns[0][1],
                      key=lambda cell: rank.get(getattr(cell, "row_key", ""), len(rank)))
        if selected in self._cells:
            self.move_cursor(row=self.get_row_index(selected), animate=False)

    def _remove_rows(self, keys: Sequence[str]) -> None:
        """`remove_row` for many rows in one pass.

        DataTable.remove_row re-indexes every remaining row, so removing k of n rows one
        by one costs k x n (a new filter or page swaps hundreds of rows: ~0.5 s). This
        does the same bookkeeping as remove_row (Textual 8.2) once for all of them.
        """
        if len(keys) <= 2:
            for key in keys:
                self.remove_row(key)
            return
        gone = set(keys)
        keep, drop = [], []
        for row in self.ordered_rows:
            (drop if row.key.value in gone else keep).append(row.key)
        self._row_locations = TwoWayDict({key: i for i, key in enumerate(keep)})
        for row_key in drop:
            for column_key in self._data[row_key]:
                self._updated_cells.discard(CellKey(row_key, column_key))
            del self.rows[row_key]
            del self._data[row_key]
            self._new_rows.discard(row_key)
        self._require_update_dimensions = True
        self.check_idle()
        self.cursor_coordinate = self.cursor_coordinate
        self.hover_coordinate = self.hover_coordinate
        self._update_count += 1
        self.refresh()  # the virtual size, recomputed on idle, asks for a layout if it changed

    def _add_rows(self, rows: Sequence[tuple[str, tuple]]) -> None:
        """`add_row` for many rows at once (one-line rows, no labels): add_row re-validates
        the cursor and bumps the caches once per row (~50 us a row; 500 rows of a new
        filter or page took ~25 ms). Same bookkeeping as add_row (Textual 8.2), once."""
        if len(rows) <= 2:
            for key, cells in rows:
                self.add_row(*cells, key=key)
            return
        columns = self.ordered_columns
        was_empty = self.row_count == 0
        index = self.row_count
        for key, cells in rows:
            row_key = RowKey(key)
            if row_key in self._row_locations:
                raise DuplicateKey(f"The row key {row_key!r} already exists.")
            if len(cells) > len(columns):
                raise ValueError("More values provided than there are columns.")
            self._row_locations[row_key] = index
            index += 1
            self._data[row_key] = {column.key: cell
                                   for column, cell in zip_longest(columns, cells)}
            self.rows[row_key] = Row(row_key, 1, None, False)
            self._new_rows.add(row_key)
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate
        if was_empty and columns and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()
        self._update_count += 1
        self.check_idle()

    # DataTable measures every cell of every new row with Rich (`measure` builds a
    # ConsoleOptions per call, ~12 us a cell; from_markup another ~5 us for a str): 500
    # new rows of a new filter or page took ~30 ms. Our cells are one-line texts whose
    # width is their cell length, so these two measure them directly and leave the rest
    # (virtual size, anything unusual) to DataTable. Same results, Textual 8.2 internals.

    def _cell_width(self, cell: Any) -> int:
        width = _fast_width(cell)
        if width is None:
            width = measure(self.app.console,
                            default_cell_formatter(cell, wrap=False, height=1), 1)
        return width

    def _update_dimensions(self, new_rows) -> None:
        plain, rest = [], []
        for row_key in new_rows:
            row = self.rows.get(row_key)
            if row is None or row_key not in self._row_locations:
                continue  # removed before this ran
            (plain if row.label is None and not row.auto_height and row.height == 1
             else rest).append(row_key)
        columns = self.ordered_columns
        for row_key in plain:
            data = self._data[row_key]
            for column in columns:
                width = self._cell_width(data.get(column.key))
                if width > column.content_width:
                    column.content_width = width
        super()._update_dimensions(rest)

    def _update_column_widths(self, updated_cells) -> None:
        slow = set()
        for cell_key in updated_cells:
            row_key, column_key = cell_key
            column, row = self.columns.get(column_key), self.rows.get(row_key)
            if column is None or row is None:
                continue
            if row.height != 1:
                slow.add(cell_key)
                continue
            label_width = measure(self.app.console, column.label, 1)
            new_width = self._cell_width(self._data[row_key][column_key])
            if new_width < column.content_width:  # it may have been the widest: re-measure
                widths = [self._cell_width(cells.get(column_key))
                          for cells in self._data.values()]
                column.content_width = max([*widths, label_width])
            else:
                column.content_width = max(new_width, label_width)
        if slow:
            super()._update_column_widths(slow)
        self._require_update_dimensions = True


_MAYBE_MARKUP = re.compile(r"\[|:[^\s:]+:")  # Rich markup or an :emoji: code


def _fast_width(cell: Any) -> int | None:
    """What `measure(console, default_cell_formatter(cell), 1)` gives, for text cells
    (None when unsure: markup or emoji codes in a str, which DataTable would interpret)."""
    if isinstance(cell, Text):
        plain = cell.plain
    elif isinstance(cell, str) and not _MAYBE_MARKUP.search(cell):
        plain = cell
    else:
        return None
    if "\n" in plain:
        return None
    return cell_len(plain)


def _sig(cells: tuple) -> tuple:
    """What a cell looks like (Text equality ignores the base style)."""
    return tuple((c.plain, str(c.style), tuple(c.spans)) if isinstance(c, Text) else c
                 for c in cells)
