"""Year-in-review share links (`story_links`): which person's story of which year a link
shows. The link's token is its id plus an HMAC of it (activate/stories/links.py); only the id
is stored. The SQL is in store/duckdb/story_store.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class StoryLink:
    """A share link: the story of `profile_id` for `year`, in `lang` (None: the person's)."""

    link_id: str
    profile_id: str
    year: int
    lang: str | None
    created_at: datetime
    created_by: str

    def to_json(self) -> dict[str, Any]:
        return {
            "link_id": self.link_id,
            "profile_id": self.profile_id,
            "year": self.year,
            "lang": self.lang,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
        }


class StoryStore(Protocol):
    """The share links of a workspace."""

    def add_link(self, link: StoryLink) -> None: ...

    def link(self, link_id: str) -> StoryLink | None: ...

    def links_of(self, profile_id: str) -> list[StoryLink]: ...

    def delete_links(self, profile_id: str) -> int:
        """Remove every link of a person (withdrawn or erased); how many there were."""
        ...
