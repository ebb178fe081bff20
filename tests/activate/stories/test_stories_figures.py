"""The year in review on a workspace whose answers are worked out by hand (stories_planted.py):
figures, the CO2 and money methods, community and rank, consent, texts in French and English
with their locale formats, and the PNG."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from stories_planted import build

import empreinte
from empreinte.activate.stories.texts import Story, Teller
from empreinte.errors import InvalidInput, NotFound
from empreinte.workspace import Workspace

NNBSP, NBSP = "\u202f", "\xa0"


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, dict[str, str]]]:
    path = tmp_path_factory.mktemp("stories")
    ids = build(path)
    ws = empreinte.open(path, create=False)
    try:
        yield ws, ids
    finally:
        ws.close()


@pytest.fixture(scope="module")
def told(planted: tuple[Workspace, dict[str, str]]) -> dict[str, Story]:
    """The stories the tests read, each computed once (a story costs an engine query)."""
    ws, ids = planted
    return {
        "alice": ws.stories.story(ids["alice"], 2025),
        "alice_en": ws.stories.story(ids["alice"], 2025, "en"),
        "bob": ws.stories.story(ids["bob"], 2025),
        "dave": ws.stories.story(ids["dave"], 2025),
    }


def test_figures_of_a_year_by_hand(told: dict[str, Story]) -> None:
    alice = told["alice"].figures
    assert (alice.orders, alice.items, alice.products) == (3, 5, 3)
    assert alice.categories == ("books", "laptops", "phones")
    assert (alice.channel, alice.channel_orders) == ("web", 2)
    assert (alice.month, alice.month_orders) == (3, 2)
    assert alice.co2_avoided_kg == pytest.approx(51 + 200)
    assert (alice.saved, alice.currency) == (pytest.approx(600.0), "EUR")
    assert alice.promotions == pytest.approx(3.0)
    assert alice.refurbished_items == 2


def test_catalogue_figures_win_over_what_the_event_claims(told: dict[str, Story]) -> None:
    bob = told["bob"].figures
    # 2 × (60 − 9) kg; the book line's "refurbished, 99,999 kg" is not the catalogue's word.
    assert bob.co2_avoided_kg == pytest.approx(102.0)
    assert (bob.saved, bob.currency) == (pytest.approx(432.0), "USD")


def test_community_total_and_rank(
    planted: tuple[Workspace, dict[str, str]], told: dict[str, Story]
) -> None:
    ws, _ = planted
    community = ws.stories.community(2025)
    assert community.buyers == 4  # erin gave no analytics consent
    assert community.co2_avoided_kg == pytest.approx(404.0)
    assert (community.refurbished_items, community.refurbished_buyers) == (5, 3)
    assert told["alice"].community == community
    ranks = {u: told[u].figures.top_percent for u in ("alice", "bob", "dave")}
    assert ranks == {"alice": 25, "bob": 50, "dave": None}
    # Dave's claimed 50 € discount on a 10 € order counts for 10 €.
    assert told["dave"].figures.promotions == pytest.approx(10.0)
    assert told["dave"].figures.saved == 0.0


def test_no_story_without_personalisation(planted: tuple[Workspace, dict[str, str]]) -> None:
    ws, ids = planted
    for user in ("carol", "erin"):
        with pytest.raises(NotFound, match="allow"):
            ws.stories.story(ids[user], 2025)
        with pytest.raises(NotFound):
            ws.stories.share(ids[user], 2025, "test")


def test_no_story_for_a_year_without_purchases(
    planted: tuple[Workspace, dict[str, str]],
) -> None:
    ws, ids = planted
    with pytest.raises(NotFound, match="no purchase in 2023"):
        ws.stories.story(ids["alice"], 2023)
    with pytest.raises(InvalidInput):
        ws.stories.story(ids["alice"], 1850)


def test_the_french_story_leads_with_impact_in_french_formats(told: dict[str, Story]) -> None:
    story = told["alice"]  # her locale is fr-FR
    assert (story.lang, story.locale) == ("fr", "fr_FR")
    slides = {s.key: s for s in story.slides}
    assert [s.key for s in story.slides][:2] == ["impact", "products"]
    assert slides["impact"].big == f"251{NNBSP}kg"  # CLDR: a narrow no-break space
    assert f"top 25{NBSP}%" in slides["impact"].note
    assert f"404{NNBSP}kg de CO₂" in slides["impact"].note
    assert slides["savings"].big == f"603,00{NBSP}€"
    assert slides["savings"].detail == (
        f"600,00{NBSP}€ en choisissant le reconditionné plutôt que le neuf, "
        f"3,00{NBSP}€ grâce à nos promotions"
    )
    assert slides["month"].big == "Mars"
    assert slides["categories"].big == "Livres"
    assert slides["categories"].detail == "suivi de : Ordinateurs portables et Téléphones"
    assert slides["channel"].big == "Sur le site"
    assert slides["products"].detail == "en 3 commandes"


def test_the_us_story_leads_with_money_saved_in_english(told: dict[str, Story]) -> None:
    story = told["bob"]
    assert (story.lang, story.locale) == ("en", "en_US")
    assert story.slides[0].key == "savings"
    assert story.slides[0].big == "$432.00"
    impact = next(s for s in story.slides if s.key == "impact")
    assert impact.big == f"102{NBSP}kg"  # a no-break space: never split over two lines
    assert "top 50%" in impact.note
    # One order: no favourite channel nor busiest month to tell.
    assert {s.key for s in story.slides} == {"savings", "products", "categories", "impact"}


def test_the_language_can_be_chosen(told: dict[str, Story]) -> None:
    story = told["alice_en"]
    slides = {s.key: s for s in story.slides}
    assert (story.lang, story.locale) == ("en", "en_FR")
    assert slides["month"].big == "March"
    # CLDR's English of France writes money and numbers the French way.
    assert slides["savings"].big == f"603,00{NBSP}€"
    assert story.slides[0].key == "impact"  # the emphasis is the country's, not the language's


def test_locale_formats_of_large_figures() -> None:
    fr, en = Teller("fr", "fr_FR"), Teller("en", "en_US")
    assert fr.mass(1234.5) == f"1{NNBSP}234,5{NNBSP}kg"
    assert en.mass(1234.5) == f"1,234.5{NBSP}kg"
    assert fr.mass(12_345.0) == f"12,3{NNBSP}t"
    assert en.money(1234.5, "EUR") == "€1,234.50"
    assert fr.money(1234.5, "USD") == f"1{NNBSP}234,50{NBSP}$US"
    assert fr.month(8) == "Août"


def test_png_is_a_1080_by_1920_image_the_same_every_time(
    planted: tuple[Workspace, dict[str, str]], told: dict[str, Story], tmp_path: Path
) -> None:
    ws, _ = planted
    story = told["alice"]
    first = ws.stories.png(story)
    image = Image.open(io.BytesIO(first))
    assert (image.format, image.size) == ("PNG", (1080, 1920))
    assert ws.stories.png(story) == first
    assert ws.stories.png(told["alice_en"]) != first
    (tmp_path / "alice.png").write_bytes(first)


def test_batch_renders_the_consenting_and_counts_the_others(
    planted: tuple[Workspace, dict[str, str]], tmp_path: Path
) -> None:
    ws, ids = planted
    seen: list[tuple[int, int]] = []
    report = ws.stories.render(
        2025, tmp_path / "out", progress=lambda done, total: seen.append((done, total))
    )
    files = sorted(p.name for p in (tmp_path / "out").glob("*.png"))
    assert files == sorted(
        [f"{ids['alice']}-2025-fr.png", f"{ids['bob']}-2025-en.png", f"{ids['dave']}-2025-en.png"]
    )
    assert (report.rendered, report.refused) == (3, 1)  # carol: counted, never named
    assert seen[-1] == (3, 3)
    index = (tmp_path / "out" / "index.csv").read_text().splitlines()
    assert index[0] == "profile_id,lang,file"
    assert sorted(index[1:]) == sorted(
        f"{ids[u]},{lang},{ids[u]}-2025-{lang}.png"
        for u, lang in [("alice", "fr"), ("bob", "en"), ("dave", "en")]
    )
