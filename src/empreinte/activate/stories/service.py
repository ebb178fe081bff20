"""`Stories` (`workspace.stories`): the year in review of each person, the product catalogue
it reads, share links, and the batch that renders a segment's stories.

Consent: a story is personalisation, so it is made only for people who allow
`personalisation` — asked through `privacy.consent.allowed` (the one gate) for one person,
and through the engine table `consent_state` (the same rule, in bulk) for a batch. The
figures read order lines of people who allow `analytics`, as every report does.
"""

from __future__ import annotations

import csv
import io
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from empreinte.activate.catalog import Catalogue
from empreinte.activate.stories import links
from empreinte.activate.stories.model import Community, YearFigures, YearReport
from empreinte.activate.stories.settings import StorySettings
from empreinte.activate.stories.texts import Story, babel_locale, check_lang, language_of, tell
from empreinte.errors import InvalidInput, NoStory, NotFound, ProfileNotFound
from empreinte.privacy.consent import allowed, allowed_profiles
from empreinte.store.story_store import StoryLink

if TYPE_CHECKING:
    from empreinte.workspace import Workspace

FIRST_YEAR, LAST_YEAR = 2000, 2100
#: How long every buyer's figures of a year are reused (a year past barely changes; the
#: consent gate is asked again at every view, and an erasure empties the cache).
REPORT_SECONDS = 300.0
_REPORTS_KEPT = 8
PERSONALISATION = "personalisation"  # the purpose a story needs
ANALYTICS = "analytics"  # the purpose of the figures it is made of


def check_year(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput("year", f"give a year from {FIRST_YEAR} to {LAST_YEAR}")
    return year


@dataclass(frozen=True)
class ShareLink:
    """A share link just made: the token (the only secret part of the URL) and its path."""

    token: str
    path: str
    link: StoryLink

    def to_json(self) -> dict[str, Any]:
        return {"token": self.token, "path": self.path, **self.link.to_json()}


@dataclass(frozen=True)
class BatchReport:
    """What a batch rendered: stories written, people left out and why (counts, no names)."""

    year: int
    rendered: int
    refused: int  # do not allow personalisation
    without_purchases: int  # in the segment, no order that year
    directory: Path

    def to_json(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "rendered": self.rendered,
            "skipped_no_consent": self.refused,
            "skipped_no_purchase": self.without_purchases,
            "directory": str(self.directory),
        }


class _Reports:
    """Every buyer's figures per workspace and year, reused for `REPORT_SECONDS`: one engine
    query serves a share page's every view (and its PNG) instead of one query each."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[tuple[str, int], tuple[float, int, YearReport]] = {}

    def get(self, ws: Workspace, year: int, compute: Callable[[], YearReport]) -> YearReport:
        key = (str(ws.path), year)
        erasures = ws.privacy_store.erasure_count()
        now = time.monotonic()
        with self._lock:
            found = self._kept.get(key)
        if found and now - found[0] < REPORT_SECONDS and found[1] == erasures:
            return found[2]
        report = compute()
        with self._lock:
            self._kept[key] = (now, erasures, report)
            while len(self._kept) > _REPORTS_KEPT:
                self._kept.pop(min(self._kept, key=lambda k: self._kept[k][0]))
        return report

    def put(self, ws: Workspace, year: int, report: YearReport) -> None:
        with self._lock:
            self._kept[(str(ws.path), year)] = (
                time.monotonic(),
                ws.privacy_store.erasure_count(),
                report,
            )

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


REPORTS = _Reports()


class Stories:
    def __init__(self, workspace: Workspace):
        self._ws = workspace
        self._store = workspace.engine.story_store()

    @property
    def catalogue(self) -> Catalogue:
        """The product catalogue (list prices and CO2 figures)."""
        return Catalogue(self._ws.engine.product_store())

    @property
    def settings(self) -> StorySettings:
        return StorySettings.from_mapping(self._ws.config.stories)

    # -- one person --------------------------------------------------------------------------

    def _current(self, profile_id: str) -> str:
        try:
            current: str = self._ws.profiles.current(profile_id)
        except ProfileNotFound:
            raise NoStory(f"no profile {profile_id!r}", "unknown") from None
        return current

    def _report(self, year: int) -> YearReport:
        """Every buyer's figures of `year` (reused a while: whose story may be told is
        asked of the consent ledger at each call, not read from here)."""
        from empreinte.activate.stories.figures import year_report

        def compute() -> YearReport:
            with self._ws.analytics() as log:
                return year_report(log, year, personalised_only=False)

        return REPORTS.get(self._ws, year, compute)

    def story(self, profile_id: str, year: int, lang: str | None = None) -> Story:
        """The story of one person (following merges); `NotFound` when they do not allow
        personalisation, or bought nothing that year."""
        check_year(year)
        check_lang(lang)
        current = self._current(profile_id)
        if not allowed(self._ws, current, PERSONALISATION):
            raise NoStory("no story: this person does not allow personalisation", "consent")
        if not allowed(self._ws, current, ANALYTICS):  # the figures are read from analytics
            raise NoStory("no story: this person does not allow analytics", "analytics")
        report = self._report(year)
        figures = report.people.get(current)
        if figures is None:
            raise NoStory(
                f"no story: no purchase in {year} (or no analytics consent)", "no_purchase"
            )
        return self._tell(figures, report.community, lang)

    def _tell(self, figures: YearFigures, community: Community, lang: str | None) -> Story:
        settings = self.settings
        chosen = lang or language_of(figures.locale, settings.language)
        return tell(
            figures,
            community,
            settings.sections_for(figures.country),
            chosen,
            babel_locale(chosen, figures.country),
        )

    def png(self, story: Story) -> bytes:
        from empreinte.activate.stories.card import render_png

        return render_png(story)

    def community(self, year: int) -> Community:
        """The community's year (aggregates of every buyer who allows analytics)."""
        check_year(year)
        return self._report(year).community

    # -- share links -------------------------------------------------------------------------

    def _key(self) -> bytes:
        return links.link_key(self._ws.path)

    def share(self, profile_id: str, year: int, by: str, lang: str | None = None) -> ShareLink:
        """A public link to the person's story (checked now, and again at every view)."""
        self.story(profile_id, year, lang)  # NotFound when there is nothing to share
        link = StoryLink(
            link_id=links.new_link_id(),
            profile_id=self._current(profile_id),
            year=year,
            lang=lang,
            created_at=datetime.now(UTC),
            created_by=by,
        )
        self._store.add_link(link)
        token = links.token_of(self._key(), link.link_id)
        return ShareLink(token, f"/stories/{token}", link)

    def shared(self, token: str, lang: str | None = None) -> Story:
        """The story a share link shows; `NotFound` for a forged, altered or dead link (the
        person withdrew `personalisation` or was erased: their links are then deleted)."""
        link_id = links.link_id_of(self._key(), token)
        link = self._store.link(link_id) if link_id else None
        if link is None:
            raise NotFound("no such story")
        if not allowed(self._ws, link.profile_id, PERSONALISATION):
            self._store.delete_links(link.profile_id)
            raise NotFound("no such story")
        try:
            return self.story(link.profile_id, link.year, lang or link.lang)
        except NotFound:
            raise NotFound("no such story") from None

    def links_of(self, profile_id: str) -> list[StoryLink]:
        return self._store.links_of(self._current(profile_id))

    def revoke(self, profile_id: str) -> int:
        """Turn off every share link of a person; how many there were."""
        return self._store.delete_links(self._current(profile_id))

    # -- many people -------------------------------------------------------------------------

    def render(
        self,
        year: int,
        directory: str | Path,
        *,
        segment: str | None = None,
        lang: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> BatchReport:
        """Write `<profile_id>-<year>-<lang>.png` for each buyer of `year` (of the saved
        `segment` when given) who allows personalisation, and `index.csv` (profile_id, lang,
        file: what a mailing tool needs); people who do not allow it are counted, never
        named. The figures are computed afresh; who may be told is the consent ledger's bulk
        answer (`allowed_profiles`, the rule of `allowed`)."""
        from empreinte.activate.stories.figures import year_report

        check_year(year)
        check_lang(lang)
        out = Path(directory)
        members = set(self._ws.segments.members(segment)) if segment else None
        with self._ws.analytics() as log:
            report = year_report(log, year, personalised_only=False)
        REPORTS.put(self._ws, year, report)
        personalised = allowed_profiles(self._ws, PERSONALISATION)
        buyers = set(report.people) if members is None else set(report.people) & members
        stories = sorted(buyers & personalised)
        without = 0 if members is None else len(members - set(report.people))
        out.mkdir(parents=True, exist_ok=True)
        index = [("profile_id", "lang", "file")]
        for done, profile_id in enumerate(stories, start=1):
            story = self._tell(report.people[profile_id], report.community, lang)
            target = out / f"{profile_id}-{year}-{story.lang}.png"
            _write_whole(target, self.png(story))
            index.append((profile_id, story.lang, target.name))
            if progress:
                progress(done, len(stories))
        lines = io.StringIO()
        csv.writer(lines, lineterminator="\n").writerows(index)
        _write_whole(out / "index.csv", lines.getvalue().encode())
        return BatchReport(year, len(stories), len(buyers) - len(stories), without, out)


def _write_whole(target: Path, data: bytes) -> None:
    """Write a file whole or not at all (a reader never sees half a PNG)."""
    partial = target.with_suffix(f".{secrets.token_hex(4)}.tmp")
    partial.write_bytes(data)
    partial.replace(target)
