"""The SQL of year-in-review share links, `story_links` (store/story_store.py)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from empreinte.store.duckdb.access import DuckDBTables
from empreinte.store.duckdb.results import first_row
from empreinte.store.story_store import StoryLink

_COLUMNS = ("link_id", "profile_id", "year", "lang", "created_at", "created_by")
_SELECT = ", ".join(_COLUMNS)


def _link(row: Sequence[Any]) -> StoryLink:
    return StoryLink(**dict(zip(_COLUMNS, row, strict=True)))


class DuckDBStoryStore(DuckDBTables):
    """Share links in the workspace's DuckDB file."""

    def add_link(self, link: StoryLink) -> None:
        with self._transaction("save a story link") as cur:
            cur.execute(
                f"INSERT INTO story_links ({_SELECT}) VALUES (?, ?, ?, ?, ?, ?)",
                [getattr(link, c) for c in _COLUMNS],
            )

    def link(self, link_id: str) -> StoryLink | None:
        found = first_row(
            self._cur().execute(f"SELECT {_SELECT} FROM story_links WHERE link_id = ?", [link_id])
        )
        return _link(found) if found else None

    def links_of(self, profile_id: str) -> builtins.list[StoryLink]:
        rows = self._cur().execute(
            f"SELECT {_SELECT} FROM story_links WHERE profile_id = ? ORDER BY created_at",
            [profile_id],
        )
        return [_link(row) for row in rows.fetchall()]

    def delete_links(self, profile_id: str) -> int:
        with self._transaction("delete story links") as cur:
            rows = cur.execute(
                "DELETE FROM story_links WHERE profile_id = ? RETURNING link_id", [profile_id]
            ).fetchall()
        return len(rows)
